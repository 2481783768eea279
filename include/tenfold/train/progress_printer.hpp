// The progress display of fit(): a live bar (epoch, batch, loss, metric, samples/s, ETA) on a terminal,
// one plain line per epoch when the output is a file or a pipe, nothing when silent.
#pragma once
#include "../core/internal.hpp"

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <unistd.h>

#include "history.hpp"
#include "options.hpp"

namespace tenfold::detail {

class progress_printer {
 public:
  progress_printer(progress style, std::FILE* out, std::size_t epochs, std::size_t batches, const char* metric_name)
      : out_(out), epochs_(epochs), batches_(batches), metric_name_(metric_name) {
    if (style == progress::automatic) style = (out && isatty(fileno(out))) ? progress::bar : progress::lines;
    style_ = out ? style : progress::silent;
  }

  void start_epoch(std::size_t epoch) {
    epoch_ = epoch;
    start_ = clock::now();
    last_draw_ = start_ - std::chrono::seconds(1);
  }

  // Whether batch_done(batch, ...) would draw now: the bar is drawn after the last batch and at most ten times a
  // second before it. (cuda::fit asks first, since what it draws must be read back from the GPU.)
  bool draw_due(std::size_t batch) const {
    return style_ == progress::bar &&
           (batch + 1 == batches_ || clock::now() - last_draw_ >= std::chrono::milliseconds(100));
  }

  // Called after each batch; redraws at most ten times a second so that drawing never costs time.
  void batch_done(std::size_t batch, std::size_t samples, double mean_loss, double metric) {
    if (!draw_due(batch)) return;
    const auto now = clock::now();
    last_draw_ = now;
    const double elapsed = seconds_since(start_, now);
    const double rate = elapsed > 0 ? samples / elapsed : 0;
    const double eta = batch + 1 > 0 ? elapsed * (double(batches_) / double(batch + 1) - 1) : 0;
    constexpr int width = 24;
    const int filled = static_cast<int>(width * double(batch + 1) / double(batches_));
    char bar[width + 1];
    for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
    bar[width] = 0;
    std::fprintf(out_, "\r\033[Kepoch %zu/%zu [%s] %zu/%zu loss %.4f", epoch_, epochs_, bar, batch + 1, batches_,
                 mean_loss);
    if (!std::isnan(metric)) std::fprintf(out_, " %s %.4f", metric_name_, metric);
    std::fprintf(out_, " %.0f samples/s ETA %.1fs", rate, eta);
    std::fflush(out_);
  }

  void end_epoch(const epoch_record& r) {
    if (style_ == progress::silent) return;
    if (style_ == progress::bar) std::fprintf(out_, "\r\033[K");
    std::fprintf(out_, "epoch %zu/%zu loss %.4f", r.epoch, epochs_, r.loss);
    if (!std::isnan(r.metric)) std::fprintf(out_, " %s %.4f", metric_name_, r.metric);
    if (!std::isnan(r.validation_loss)) std::fprintf(out_, " val_loss %.4f", r.validation_loss);
    if (!std::isnan(r.validation_metric)) std::fprintf(out_, " val_%s %.4f", metric_name_, r.validation_metric);
    std::fprintf(out_, " lr %.3g %.2fs %.0f samples/s\n", r.learning_rate, r.seconds, r.samples_per_second);
    std::fflush(out_);
  }

  using clock = std::chrono::steady_clock;
  static double seconds_since(clock::time_point a, clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  }
  clock::time_point epoch_start() const { return start_; }

 private:
  std::FILE* out_;
  progress style_ = progress::silent;
  std::size_t epochs_, batches_, epoch_ = 0;
  const char* metric_name_;
  clock::time_point start_{}, last_draw_{};
};

}  // namespace tenfold::detail
