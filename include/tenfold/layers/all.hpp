// Every layer of tenfold/layers/.
#pragma once
#include "../core/internal.hpp"

#include "activation.hpp"
#include "batch_norm.hpp"
#include "dense.hpp"
#include "dropout.hpp"
#include "reshape.hpp"
#include "softmax.hpp"
