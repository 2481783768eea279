// Every header of tenfold/loss/, for the umbrella header.
#pragma once
#include "../core/internal.hpp"
