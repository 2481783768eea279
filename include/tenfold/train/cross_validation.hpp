// k_fold_cross_validate(): k models, each trained on k−1 folds and validated on the remaining one, with
// per-fold results and their mean ± standard deviation.
//
// Folds are contiguous after one seeded shuffle of the sample order, so every sample is validated exactly
// once. Each fold's model is built fresh from `model_seed + fold` on the heap (a model holds its workspace).
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <memory>
#include <vector>

#include "../core/error.hpp"
#include "../data/dataset.hpp"
#include "../data/shuffle.hpp"
#include "fit.hpp"

namespace tenfold {

struct fold_result {
  std::size_t fold = 0;
  evaluation validation;
  std::size_t epochs_run = 0;
};

struct cross_validation_result {
  std::vector<fold_result> folds;
  double mean_loss = NAN, stddev_loss = NAN, mean_metric = NAN, stddev_metric = NAN;
};

template <class Model, class L, class Opt, class Schedule = schedule::constant>
cross_validation_result k_fold_cross_validate(std::size_t k, const dataset<typename Model::value_type>& data,
                                              const L& loss, const Opt& opt, fit_options options = {},
                                              std::uint64_t model_seed = 0, Schedule sched = {}) {
  TENFOLD_EXPECT(k >= 2 && k <= data.size(), errc::invalid_argument,
                 "k_fold_cross_validate: k = %zu must be between 2 and the number of samples (%zu)", k, data.size());
  const std::vector<std::size_t> order = shuffled_order(data.size(), options.seed ^ 0x6b666f6c64ULL);
  options.validation_split = 0;  // each fold's validation set is its held-out fold
  cross_validation_result out;
  for (std::size_t fold = 0; fold < k; ++fold) {
    const std::size_t lo = fold * data.size() / k, hi = (fold + 1) * data.size() / k;
    std::vector<std::size_t> train_idx, val_idx;
    for (std::size_t i = 0; i < order.size(); ++i) (i >= lo && i < hi ? val_idx : train_idx).push_back(order[i]);
    const auto train = data.subset(train_idx);
    const auto validation = data.subset(val_idx);
    auto m = std::make_unique<Model>(model_seed + fold);
    // Early stopping inside a fold watches the held-out fold, through a callback that evaluates it.
    fit_options fold_options = options;
    const auto h = fit_with_validation(*m, train, validation, loss, opt, fold_options, sched);
    fold_result r;
    r.fold = fold + 1;
    r.validation = evaluate(*m, validation, loss, options.metric);
    r.epochs_run = h.epochs.size();
    out.folds.push_back(r);
  }
  auto mean_sd = [&](auto get, double& mean, double& sd) {
    double s = 0, s2 = 0;
    for (const auto& f : out.folds) s += get(f);
    mean = s / double(k);
    for (const auto& f : out.folds) s2 += (get(f) - mean) * (get(f) - mean);
    sd = std::sqrt(s2 / double(k - 1));  // sample standard deviation over folds
  };
  mean_sd([](const fold_result& f) { return f.validation.loss; }, out.mean_loss, out.stddev_loss);
  mean_sd([](const fold_result& f) { return f.validation.metric; }, out.mean_metric, out.stddev_metric);
  return out;
}

}  // namespace tenfold
