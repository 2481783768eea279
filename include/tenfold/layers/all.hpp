// Every layer of tenfold/layers/.
#pragma once
#include "../core/internal.hpp"

#include "activation.hpp"
#include "attention.hpp"
#include "batch_norm.hpp"
#include "conv2d.hpp"
#include "dense.hpp"
#include "dropout.hpp"
#include "embedding.hpp"
#include "layer_norm.hpp"
#include "pooling.hpp"
#include "position_embedding.hpp"
#include "recurrent.hpp"
#include "reshape.hpp"
#include "rms_norm.hpp"
#include "softmax.hpp"
#include "tied_embedding.hpp"
