// history::write_svg: training curves as an SVG file, with no plotting library.
//
// One panel for the loss and, when a metric was recorded, one for the metric; in each, the training curve
// (solid) and the validation curve (dashed) against the epoch, with the lowest and highest values and the
// first and last epochs written on the axes. Values that were not computed (NaN) are left out of a curve.
#pragma once
#include "../core/internal.hpp"

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <vector>

#include "../core/error.hpp"
#include "history.hpp"

namespace tenfold {

namespace detail {

struct svg_series {
  const char* label;
  const char* colour;
  bool dashed;
  std::vector<double> epochs, values;
};

// One panel of `width` x `height` pixels whose top left corner is at (x0, y0).
inline void svg_panel(std::FILE* f, double x0, double y0, double width, double height, const char* title,
                      const std::vector<svg_series>& series) {
  constexpr double left = 70, right = 20, top = 30, bottom = 40;
  double lo = INFINITY, hi = -INFINITY, first = INFINITY, last = -INFINITY;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.values.size(); ++i) {
      lo = std::fmin(lo, s.values[i]);
      hi = std::fmax(hi, s.values[i]);
      first = std::fmin(first, s.epochs[i]);
      last = std::fmax(last, s.epochs[i]);
    }
  if (!(lo <= hi)) return;    // nothing to draw
  if (hi == lo) hi = lo + 1;  // a flat curve is drawn at the bottom of a unit range
  if (last == first) last = first + 1;
  const double w = width - left - right, h = height - top - bottom;
  auto px = [&](double epoch) { return x0 + left + (epoch - first) / (last - first) * w; };
  auto py = [&](double v) { return y0 + top + (hi - v) / (hi - lo) * h; };
  std::fprintf(f, "<g class=\"panel\">\n<text x=\"%.1f\" y=\"%.1f\" font-size=\"15\">%s</text>\n", x0 + left,
               y0 + top - 10, title);
  std::fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>\n",
               x0 + left, y0 + top, w, h);
  std::fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", x0 + left - 5, y0 + top + 5, hi);
  std::fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", x0 + left - 5, y0 + top + h, lo);
  std::fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", px(first), y0 + top + h + 18,
               first);
  std::fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", px(last), y0 + top + h + 18, last);
  std::fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">epoch</text>\n", x0 + left + w / 2,
               y0 + top + h + 32);
  double legend_y = y0 + top + 18;
  for (const auto& s : series) {
    if (s.values.empty()) continue;
    std::fprintf(f, "<polyline class=\"%s %s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", title,
                 s.label, s.colour, s.dashed ? " stroke-dasharray=\"6 4\"" : "");
    for (std::size_t i = 0; i < s.values.size(); ++i)
      std::fprintf(f, "%s%.2f,%.2f", i ? " " : "", px(s.epochs[i]), py(s.values[i]));
    std::fprintf(f, "\"/>\n");
    std::fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"%s\">%s</text>\n", x0 + left + w - 8,
                 legend_y, s.colour, s.label);
    legend_y += 18;
  }
  std::fprintf(f, "</g>\n");
}

}  // namespace detail

inline result<bool> history::write_svg(const char* path) const {
  using detail::svg_series;
  svg_series loss{"training", "#1f77b4", false, {}, {}}, val_loss{"validation", "#ff7f0e", true, {}, {}};
  svg_series metric{"training", "#1f77b4", false, {}, {}}, val_metric{"validation", "#ff7f0e", true, {}, {}};
  auto add = [](svg_series& s, std::size_t epoch, double v) {
    if (std::isfinite(v)) {
      s.epochs.push_back(double(epoch));
      s.values.push_back(v);
    }
  };
  for (const epoch_record& e : epochs) {
    add(loss, e.epoch, e.loss);
    add(val_loss, e.epoch, e.validation_loss);
    add(metric, e.epoch, e.metric);
    add(val_metric, e.epoch, e.validation_metric);
  }
  const bool has_metric = !metric.values.empty() || !val_metric.values.empty();
  constexpr double panel_width = 520, panel_height = 320;
  std::FILE* f = std::fopen(path, "w");
  if (!f)
    return error::make(errno == ENOENT ? errc::file_not_found : errc::io_error,
                       "history::write_svg: cannot open '%s' for writing: %s", path, std::strerror(errno));
  std::fprintf(f,
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
               "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
               has_metric ? 2 * panel_width : panel_width, panel_height);
  detail::svg_panel(f, 0, 0, panel_width, panel_height, "loss", {loss, val_loss});
  if (has_metric) detail::svg_panel(f, panel_width, 0, panel_width, panel_height, "metric", {metric, val_metric});
  std::fprintf(f, "</svg>\n");
  const bool written = std::ferror(f) == 0;
  const int write_errno = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed)
    return error::make(errc::io_error, "history::write_svg: writing '%s' failed: %s", path,
                       std::strerror(written ? errno : write_errno));
  return true;
}

}  // namespace tenfold
