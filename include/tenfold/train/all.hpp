// Every header of tenfold/train/, for the umbrella header.
#pragma once
#include "../core/internal.hpp"

#include "batch_transform.hpp"
#include "cross_validation.hpp"
#include "evaluate.hpp"
#include "fit.hpp"
#include "fit_iterations.hpp"
#include "generate.hpp"
#include "history.hpp"
#include "history_svg.hpp"
#include "options.hpp"
#include "progress_printer.hpp"
