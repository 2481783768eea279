// The recurrent layers: rnn, lstm and gru over a sample [T, D], outputting every step (all_steps) or the last
// state (last_step), with backpropagation through time. The shared stage is recurrent/recurrence.hpp.
#pragma once
#include "../core/internal.hpp"

#include "recurrent/gate_functions.hpp"
#include "recurrent/gru.hpp"
#include "recurrent/lstm.hpp"
#include "recurrent/recurrence.hpp"
#include "recurrent/rnn.hpp"
