// Reduce on plateau, PyTorch's ReduceLROnPlateau: cut the learning rate when a monitored value (usually the
// validation loss) has stopped improving.
//
// After each epoch the training loop calls `observe(value, current_lr)` and uses the returned rate. A value
// counts as an improvement on the best so far when it beats it by more than `threshold` (relative:
// best * (1 -/+ threshold), or absolute: best -/+ threshold). After more than `patience` epochs in a row
// without improvement the rate becomes max(lr * factor, min_lr), and the next `cooldown` epochs are not
// counted. A cut smaller than eps is skipped, as in PyTorch. The object keeps this state in its public
// fields after the settings; `reset()` forgets it.
#pragma once
#include "../../core/internal.hpp"

#include <cstddef>
#include <limits>

#include "../../core/error.hpp"

namespace tenfold::schedule {

enum class plateau_mode { min, max };                 // lower is better (a loss) or higher is (an accuracy)
enum class plateau_threshold { relative, absolute };  // PyTorch's threshold_mode 'rel' and 'abs'

struct reduce_on_plateau {
  // Settings, PyTorch's defaults.
  plateau_mode mode = plateau_mode::min;
  double factor = 0.1;
  std::size_t patience = 10;
  double threshold = 1e-4;
  plateau_threshold threshold_mode = plateau_threshold::relative;
  std::size_t cooldown = 0;
  double min_lr = 0;
  double eps = 1e-8;

  // State.
  std::size_t epochs_seen = 0;
  double best = 0;  // meaningful once epochs_seen > 0
  std::size_t bad_epochs = 0;
  std::size_t cooldown_left = 0;

  static constexpr const char* name = "reduce_on_plateau";

  double observe(double monitored_value, double current_lr) {
    if (!(factor < 1))
      raise(error::make(errc::invalid_argument, "reduce_on_plateau: factor is %g; it must be below 1", factor));
    if (epochs_seen++ == 0)
      best = mode == plateau_mode::min ? std::numeric_limits<double>::infinity()
                                       : -std::numeric_limits<double>::infinity();
    if (improves_on_best(monitored_value)) {
      best = monitored_value;
      bad_epochs = 0;
    } else {
      ++bad_epochs;
    }
    if (cooldown_left > 0) {
      --cooldown_left;
      bad_epochs = 0;
    }
    if (bad_epochs <= patience) return current_lr;
    cooldown_left = cooldown;
    bad_epochs = 0;
    const double reduced = current_lr * factor > min_lr ? current_lr * factor : min_lr;
    return current_lr - reduced > eps ? reduced : current_lr;
  }

  void reset() {
    epochs_seen = 0;
    best = 0;
    bad_epochs = 0;
    cooldown_left = 0;
  }

 private:
  // A NaN never improves (every comparison with it is false), as in PyTorch.
  bool improves_on_best(double value) const {
    const bool relative = threshold_mode == plateau_threshold::relative;
    if (mode == plateau_mode::min) return value < (relative ? best * (1 - threshold) : best - threshold);
    return value > (relative ? best * (1 + threshold) : best + threshold);
  }
};

}  // namespace tenfold::schedule
