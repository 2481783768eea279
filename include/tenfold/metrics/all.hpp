// Every header of tenfold/metrics/, for the umbrella header.
#pragma once
#include "../core/internal.hpp"
