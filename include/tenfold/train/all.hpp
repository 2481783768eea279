// Every header of tenfold/train/, for the umbrella header.
#pragma once
#include "../core/internal.hpp"
