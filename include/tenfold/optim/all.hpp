// Every header of tenfold/optim/, for the umbrella header.
#pragma once
#include "../core/internal.hpp"
