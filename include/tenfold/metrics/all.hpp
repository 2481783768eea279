// Every header of tenfold/metrics/, for the umbrella header.
#pragma once
#include "../core/internal.hpp"

#include "accuracy.hpp"
#include "confusion.hpp"
#include "labels.hpp"
#include "precision_recall.hpp"
#include "regression.hpp"
#include "roc_auc.hpp"
