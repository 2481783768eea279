// Every header of tenfold/optim/, for the umbrella header: the optimizers, gradient clipping and the
// learning-rate schedules.
#pragma once
#include "../core/internal.hpp"

#include "adam.hpp"
#include "adamw.hpp"
#include "clip.hpp"
#include "gd.hpp"
#include "loss_scaler.hpp"
#include "momentum.hpp"
#include "apply_rule.hpp"
#include "optimizer.hpp"
#include "rmsprop.hpp"
#include "schedules/constant.hpp"
#include "schedules/cosine.hpp"
#include "schedules/exponential_decay.hpp"
#include "schedules/reduce_on_plateau.hpp"
#include "schedules/schedule.hpp"
#include "schedules/step_decay.hpp"
#include "schedules/warmup_cosine.hpp"
#include "sgd.hpp"
