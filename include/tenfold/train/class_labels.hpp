// Checks the class indices of a data set once, before training or evaluation, for the losses that take
// them (sparse_categorical_cross_entropy and losses built on it), so that a bad label is reported with its
// index in the data set rather than its row inside some shuffled batch.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"
#include "../data/dataset.hpp"
#include "../loss/cross_entropy.hpp"

namespace tenfold::detail {

template <class L>
inline constexpr bool takes_class_indices = std::is_base_of_v<sparse_categorical_cross_entropy, L>;

// `what` names the caller and the set ("fit", "fit (validation set)"); `first_index` is the data set index
// of the first sample of `data` (the validation part of a split starts after the training part). A sample
// whose output has several rows (a sequence) carries one label per row, `per_sample` of them.
template <class L, class T>
void check_class_labels(const dataset<T>& data, std::size_t classes, std::size_t per_sample, const char* what,
                        std::size_t first_index = 0) {
  if constexpr (takes_class_indices<L>) {
    if (data.target_size() != per_sample) return;  // check_dataset_fits reports that mismatch
    const std::vector<T>& labels = data.target_data();
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const double v = static_cast<double>(labels[i]);
      if (v >= 0 && v < static_cast<double>(classes) && static_cast<double>(static_cast<std::size_t>(v)) == v)
        continue;
      if (per_sample == 1)
        raise(error::make(errc::out_of_range, "%s: label %g of sample %zu is not a class index in 0..%zu", what, v,
                          first_index + i, classes - 1));
      else
        raise(error::make(errc::out_of_range, "%s: label %g of sample %zu, row %zu, is not a class index in 0..%zu",
                          what, v, first_index + i / per_sample, i % per_sample, classes - 1));
    }
  }
}

}  // namespace tenfold::detail
