// Every header of tenfold/data/, for the umbrella header.
#pragma once
#include "../core/internal.hpp"
