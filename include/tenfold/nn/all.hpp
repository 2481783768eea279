// Every header of tenfold/nn/ (the machinery) and tenfold/layers/ (the layers), for the umbrella header.
#pragma once
#include "../core/internal.hpp"

#include "../layers/all.hpp"
#include "chain.hpp"
#include "check.hpp"
#include "decode.hpp"
#include "frozen_model.hpp"
#include "gradient_check.hpp"
#include "init.hpp"
#include "layout.hpp"
#include "model.hpp"
#include "parallel.hpp"
#include "parameters.hpp"
#include "repeat.hpp"
#include "residual.hpp"
#include "sequential.hpp"
#include "stage.hpp"
