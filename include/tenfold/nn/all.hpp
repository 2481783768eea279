// Every header of tenfold/nn/, for the umbrella header.
#pragma once
#include "../core/internal.hpp"
