// Every header of tenfold/nn/, for the umbrella header.
#pragma once
#include "../core/internal.hpp"

#include "activation.hpp"
#include "dense.hpp"
#include "dropout.hpp"
#include "gradient_check.hpp"
#include "init.hpp"
#include "layer.hpp"
#include "model.hpp"
#include "sequential.hpp"
#include "softmax.hpp"
