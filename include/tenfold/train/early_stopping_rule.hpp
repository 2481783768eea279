// Early stopping's rule (fit_options::early_stopping), shared by fit() and cuda::fit: the value it watches, what
// counts as an improvement, and when the patience is spent. Where the best weights are kept is the caller's
// (host memory for fit(), device memory for cuda::fit).
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>

#include "history.hpp"
#include "options.hpp"

namespace tenfold::detail {

// What one epoch's record is to early stopping.
enum class epoch_verdict {
  not_watched,     // early stopping is off
  best,            // the best value so far: keep these weights
  no_better,       // not better, patience left
  patience_spent,  // not better for `patience` epochs in a row: stop
};

class early_stopping_rule {
 public:
  // Without a validation set, a monitor of the validation loss (or metric) watches the training loss (or metric).
  early_stopping_rule(const early_stopping& settings, bool has_validation, metric kind)
      : settings_(settings), metric_is_error_(kind == metric::mse || kind == metric::mae) {
    const bool on_validation =
        settings_.monitor == monitored::validation_loss || settings_.monitor == monitored::validation_metric;
    if (settings_.enabled && !has_validation && on_validation)
      settings_.monitor = settings_.monitor == monitored::validation_loss ? monitored::loss : monitored::metric;
  }

  bool enabled() const { return settings_.enabled; }
  bool keeps_best_weights() const { return settings_.enabled && settings_.restore_best_weights; }
  monitored monitor() const { return settings_.monitor; }

  // Judges epoch r against the best value so far (NaN before the first epoch), and moves both counters.
  epoch_verdict judge(const epoch_record& r, double& best_value, std::size_t& epochs_without_improvement) const {
    if (!settings_.enabled) return epoch_verdict::not_watched;
    const double v = r.value_of(settings_.monitor);
    if (std::isnan(best_value) || better(v, best_value)) {
      best_value = v;
      epochs_without_improvement = 0;
      return epoch_verdict::best;
    }
    return ++epochs_without_improvement >= settings_.patience ? epoch_verdict::patience_spent
                                                              : epoch_verdict::no_better;
  }

 private:
  bool better(double candidate, double best) const {
    // mse and mae are errors: smaller is better even when reported as the metric.
    const bool up = larger_is_better(settings_.monitor) && !metric_is_error_;
    return up ? candidate > best + settings_.min_delta : candidate < best - settings_.min_delta;
  }

  early_stopping settings_;
  bool metric_is_error_;
};

}  // namespace tenfold::detail
