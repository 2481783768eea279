// Every header of tenfold/loss/, for the umbrella header.
#pragma once
#include "../core/internal.hpp"

#include "binary_cross_entropy.hpp"
#include "cross_entropy.hpp"
#include "loss.hpp"
#include "regression.hpp"
#include "regularization.hpp"
