// What fit() can be told: epochs, batches, shuffling, validation, early stopping, progress and callbacks.
//
// Everything here is a runtime value; the loss, the optimizer and the schedule are policy types passed to
// fit() beside the options.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "batch_transform.hpp"
#include "history.hpp"

namespace tenfold {

// The quality measure reported beside the loss each epoch.
enum class metric {
  none,
  accuracy,  // argmax against integer labels or one-hot targets; for one output, score > 0.5 (0 for logits) against 0/1
  mse,
  mae,
};

enum class progress {
  automatic,  // a bar on a terminal, one line per epoch otherwise
  bar,
  lines,
  silent,
};

// What fit() does when a batch's loss, the network's outputs or the parameters after the batch's step are
// NaN or infinite (a learning rate far too large, or non-finite values in the data).
enum class on_non_finite {
  stop,        // raise an error naming the epoch, the batch and the value (after restoring the best weights
               // early stopping kept, if any)
  skip_batch,  // undo the batch's step and go on; epoch_record::skipped_batches counts them. Costs a copy of
               // the parameters and the optimizer state per batch.
};

// Stops training when the monitored value has not improved by more than min_delta for `patience` epochs.
struct early_stopping {
  bool enabled = false;
  monitored monitor = monitored::validation_loss;
  std::size_t patience = 5;
  double min_delta = 0;
  bool restore_best_weights = true;
};

// How each epoch's order is drawn when fit_options::shuffle is on.
enum class shuffling {
  fisher_yates,  // one shuffle_engine seeded with `seed` shuffles the order in place every epoch (data/shuffle.hpp)
  keyed,         // keyed_order(n, seed, epoch) (data/keyed_order.hpp): each position's sample computed on its own,
                 // so cuda::fit draws the order on the device; fit() on the CPU draws the same one
};

struct fit_options {
  std::size_t epochs = 10;
  std::size_t batch_size = 0;       // 0: the model's batch capacity
  bool shuffle = true;
  std::uint64_t seed = 0;           // shuffling order (and nothing else: the model has its own seed)
  tenfold::shuffling shuffling = tenfold::shuffling::fisher_yates;
  // Changes each training batch's features in place after it is gathered and before its step: data
  // augmentation (an augmentation<...> from data/augment.hpp) or any batch_transform. Validation batches and
  // targets are never passed to it. Empty: batches are used as they are.
  batch_transform augment{};
  double validation_split = 0;      // the last fraction of the data, held out before shuffling
  tenfold::metric metric = tenfold::metric::none;
  tenfold::early_stopping early_stopping{};
  tenfold::progress progress = tenfold::progress::automatic;
  std::FILE* output = stdout;
  // Treat subnormal floats as zero while training (see core/denormals.hpp): without it, steps slow down
  // twofold once optimizer state for never-active inputs decays below 1e-38.
  bool flush_denormals = true;
  tenfold::on_non_finite on_non_finite = tenfold::on_non_finite::stop;
  // Called after every epoch with its record; returning false stops training.
  std::vector<std::function<bool(const epoch_record&)>> callbacks{};
};

}  // namespace tenfold
