// history: one record per epoch (loss, metric, validation loss and metric, learning rate, time), returned by
// fit() and writable as CSV.
#pragma once
#include "../core/internal.hpp"

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <vector>

#include "../core/error.hpp"

namespace tenfold {

// Which value early stopping and reduce_on_plateau watch.
enum class monitored { loss, metric, validation_loss, validation_metric };

struct epoch_record {
  std::size_t epoch = 0;  // 1-based
  double loss = NAN, metric = NAN, validation_loss = NAN, validation_metric = NAN;
  double learning_rate = NAN;
  double seconds = 0;
  double samples_per_second = 0;
  std::size_t skipped_batches = 0;  // batches undone because something went non-finite (on_non_finite::skip_batch)

  double value_of(monitored m) const {
    switch (m) {
      case monitored::loss: return loss;
      case monitored::metric: return metric;
      case monitored::validation_loss: return validation_loss;
      case monitored::validation_metric: return validation_metric;
    }
    return NAN;
  }
};

// Whether a larger value of `m` is better (metrics) or a smaller one (losses). mse and mae as metrics are
// errors, so fit() flips the direction for them.
inline bool larger_is_better(monitored m) { return m == monitored::metric || m == monitored::validation_metric; }

struct history {
  std::vector<epoch_record> epochs;
  std::size_t best_epoch = 0;   // 1-based epoch whose weights the model holds when early stopping restored them
  bool stopped_early = false;

  const epoch_record& last() const {
    TENFOLD_EXPECT(!epochs.empty(), errc::out_of_range, "history::last: the history holds no epochs");
    return epochs.back();
  }

  // Draws the loss and the metric, training and validation, per epoch, as a dependency-free SVG file that
  // any browser shows (see history_svg.hpp).
  result<bool> write_svg(const char* path) const;

  // Writes one header line and one line per epoch; empty fields for values that were not computed.
  result<bool> write_csv(const char* path) const {
    std::FILE* f = std::fopen(path, "w");
    if (!f)
      return error::make(errno == ENOENT ? errc::file_not_found : errc::io_error,
                         "history::write_csv: cannot open '%s' for writing: %s", path, std::strerror(errno));
    std::fprintf(f,
                 "epoch,loss,metric,validation_loss,validation_metric,learning_rate,seconds,samples_per_second,"
                 "skipped_batches\n");
    auto field = [f](double v) {
      if (std::isnan(v)) std::fprintf(f, ",");
      else std::fprintf(f, ",%.9g", v);
    };
    for (const auto& e : epochs) {
      std::fprintf(f, "%zu", e.epoch);
      field(e.loss);
      field(e.metric);
      field(e.validation_loss);
      field(e.validation_metric);
      field(e.learning_rate);
      field(e.seconds);
      field(e.samples_per_second);
      std::fprintf(f, ",%zu\n", e.skipped_batches);
    }
    // A full disk shows only when the buffered lines are flushed, so both the stream's error flag and
    // fclose are checked, and errno is read before anything else can change it.
    const bool written = std::ferror(f) == 0;
    const int write_errno = errno;
    const bool closed = std::fclose(f) == 0;
    if (!written || !closed)
      return error::make(errc::io_error, "history::write_csv: writing '%s' failed: %s", path,
                         std::strerror(written ? errno : write_errno));
    return true;
  }
};

}  // namespace tenfold

#include "history_svg.hpp"
