// Every layer of tenfold/layers/.
#pragma once
#include "../core/internal.hpp"

#include "activation.hpp"
#include "attention.hpp"
#include "batch_norm.hpp"
#include "conv2d.hpp"
#include "dense.hpp"
#include "dropout.hpp"
#include "layer_norm.hpp"
#include "pooling.hpp"
#include "recurrent.hpp"
#include "reshape.hpp"
#include "rms_norm.hpp"
#include "softmax.hpp"
