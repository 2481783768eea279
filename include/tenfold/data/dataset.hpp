// tenfold::dataset<T>: n samples held in memory, each a row of features and a row of targets.
//
// A dataset is built once (from IDX or CSV files, or from vectors) and then only read, so it keeps its
// rows in two plain std::vectors, row-major. The training loop touches it through `gather`, which copies
// the rows a batch names into the network's input buffers without allocating. For classification with
// integer labels there is one target per sample holding the class index; `one_hot` expands it when a loss
// wants a probability row instead.
//
// A NaN or an infinity in the data poisons every loss and gradient it touches while the printed losses can
// still look normal, so a dataset refuses them (naming the first one) unless it is built with
// non_finite_values::allowed.
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"

namespace tenfold {

// Whether a dataset accepts NaN and infinite feature and target values.
enum class non_finite_values { refused, allowed };

template <class T>
class dataset {
  static_assert(std::is_arithmetic_v<T>, "tenfold::dataset: the element type must be an arithmetic type");

 public:
  using value_type = T;

  dataset() = default;
  // An empty dataset whose rows will have these sizes (see `append`).
  dataset(std::size_t feature_size, std::size_t target_size) : feature_size_(feature_size), target_size_(target_size) {
    if (feature_size_ == 0)
      raise(error::make(errc::invalid_argument, "dataset: a sample must have at least one feature"));
  }
  // Takes `features` (n rows of feature_size) and `targets` (n rows of target_size), both row-major.
  dataset(std::vector<T> features, std::vector<T> targets, std::size_t feature_size, std::size_t target_size,
          non_finite_values non_finite = non_finite_values::refused)
      : features_(std::move(features)),
        targets_(std::move(targets)),
        feature_size_(feature_size),
        target_size_(target_size),
        non_finite_(non_finite) {
    if (feature_size_ == 0)
      raise(error::make(errc::invalid_argument, "dataset: a sample must have at least one feature"));
    if (features_.size() % feature_size_ != 0)
      raise(error::make(errc::invalid_argument, "dataset: %zu feature values are not a whole number of rows of %zu",
                        features_.size(), feature_size_));
    size_ = features_.size() / feature_size_;
    if (targets_.size() != size_ * target_size_)
      raise(error::make(errc::invalid_argument,
                        "dataset: %zu samples of %zu targets need %zu target values, but %zu were given", size_,
                        target_size_, size_ * target_size_, targets_.size()));
    check_finite(features_.data(), size_, feature_size_, 0, "feature");
    check_finite(targets_.data(), size_, target_size_, 0, "target");
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t feature_size() const { return feature_size_; }
  std::size_t target_size() const { return target_size_; }

  // The feature row and the target row of sample i.
  const T* features(std::size_t i) const { return features_.data() + checked(i) * feature_size_; }
  const T* targets(std::size_t i) const { return targets_.data() + checked(i) * target_size_; }
  T* features(std::size_t i) { return features_.data() + checked(i) * feature_size_; }
  T* targets(std::size_t i) { return targets_.data() + checked(i) * target_size_; }

  // Every feature value (size() x feature_size(), row-major), and every target value likewise.
  const std::vector<T>& feature_data() const { return features_; }
  const std::vector<T>& target_data() const { return targets_; }

  // Adds one sample. Meant for building a dataset; it may reallocate, so never call it inside a training step.
  void append(const T* features, const T* targets) {
    check_finite(features, 1, feature_size_, size_, "feature");
    check_finite(targets, 1, target_size_, size_, "target");
    features_.insert(features_.end(), features, features + feature_size_);
    targets_.insert(targets_.end(), targets, targets + target_size_);
    ++size_;
  }

  // Copies the samples named by indices[0..count) into x_out (count x feature_size) and, unless y_out is
  // null, y_out (count x target_size). No allocation: this is the per-step path of the training loop.
  void gather(const std::size_t* indices, std::size_t count, T* x_out, T* y_out) const {
    for (std::size_t b = 0; b < count; ++b) {
      const std::size_t i = indices[b];
      TENFOLD_EXPECT(i < size_, errc::out_of_range,
                     "dataset::gather: index %zu (batch row %zu) is past the %zu samples", i, b, size_);
      std::memcpy(x_out + b * feature_size_, features_.data() + i * feature_size_, feature_size_ * sizeof(T));
      if (y_out) std::memcpy(y_out + b * target_size_, targets_.data() + i * target_size_, target_size_ * sizeof(T));
    }
  }

  // Splits off the last round(fraction x size()) samples, in order (no shuffling), for validation:
  // returns {the first samples, the last ones}. `fraction` must lie in [0, 1].
  std::pair<dataset, dataset> split(double fraction) const {
    if (!(fraction >= 0.0 && fraction <= 1.0))
      raise(error::make(errc::invalid_argument, "dataset::split(%g): the fraction must lie in [0, 1]", fraction));
    const auto held_out = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(size_)));
    const std::size_t kept = size_ - (held_out < size_ ? held_out : size_);
    return {rows(0, kept), rows(kept, size_)};
  }

  // A new dataset with the samples indices[0..count), in that order (an index may repeat).
  dataset subset(const std::size_t* indices, std::size_t count) const {
    for (std::size_t b = 0; b < count; ++b)
      if (indices[b] >= size_)
        raise(error::make(errc::out_of_range, "dataset::subset: index %zu (position %zu) is past the %zu samples",
                          indices[b], b, size_));
    dataset out = empty_like();
    out.features_.resize(count * feature_size_);
    out.targets_.resize(count * target_size_);
    out.size_ = count;
    gather(indices, count, out.features_.data(), out.targets_.data());
    return out;
  }
  dataset subset(const std::vector<std::size_t>& indices) const { return subset(indices.data(), indices.size()); }

  // The same samples with each class index target replaced by a row of num_classes values: 1 at the class,
  // 0 elsewhere. Needs target_size() == 1 and every target a whole number in 0..num_classes-1.
  dataset one_hot(std::size_t num_classes) const {
    if (target_size_ != 1)
      raise(error::make(errc::invalid_argument,
                        "dataset::one_hot: the samples have %zu targets; one-hot encoding needs a single class index",
                        target_size_));
    if (num_classes == 0)
      raise(error::make(errc::invalid_argument, "dataset::one_hot: the number of classes must be at least 1"));
    std::vector<T> encoded(size_ * num_classes, T(0));
    for (std::size_t i = 0; i < size_; ++i) {
      const T label = targets_[i];
      const double as_double = static_cast<double>(label);
      if (!(as_double >= 0.0 && as_double < static_cast<double>(num_classes)) || std::floor(as_double) != as_double)
        raise(error::make(errc::out_of_range, "dataset::one_hot: label %g at index %zu is outside 0..%zu", as_double, i,
                          num_classes - 1));
      encoded[i * num_classes + static_cast<std::size_t>(label)] = T(1);
    }
    return dataset(features_, std::move(encoded), feature_size_, num_classes, non_finite_);
  }

 private:
  // Raises for the first NaN or infinity among `rows` rows of `width` values, unless they are allowed;
  // `first_row` is the dataset index of the first of these rows.
  void check_finite(const T* values, std::size_t rows, std::size_t width, std::size_t first_row,
                    const char* what) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (non_finite_ == non_finite_values::allowed) return;
      for (std::size_t i = 0; i < rows * width; ++i)
        if (!std::isfinite(values[i]))
          raise(error::make(errc::invalid_argument,
                            "dataset: %s %zu of sample %zu is %s (build the dataset with "
                            "non_finite_values::allowed to keep such values)",
                            what, i % width, first_row + i / width, std::isnan(values[i]) ? "NaN" : "infinite"));
    }
  }

  std::size_t checked(std::size_t i) const {
    TENFOLD_EXPECT(i < size_, errc::out_of_range, "dataset: sample %zu is past the %zu samples", i, size_);
    return i;
  }
  // An empty dataset with this one's row sizes (without the public constructor's checks, so that even a
  // default-constructed dataset can be split).
  dataset empty_like() const {
    dataset out;
    out.feature_size_ = feature_size_;
    out.target_size_ = target_size_;
    out.non_finite_ = non_finite_;
    return out;
  }
  dataset rows(std::size_t first, std::size_t last) const {
    dataset out = empty_like();
    out.features_.assign(features_.begin() + static_cast<std::ptrdiff_t>(first * feature_size_),
                         features_.begin() + static_cast<std::ptrdiff_t>(last * feature_size_));
    out.targets_.assign(targets_.begin() + static_cast<std::ptrdiff_t>(first * target_size_),
                        targets_.begin() + static_cast<std::ptrdiff_t>(last * target_size_));
    out.size_ = last - first;
    return out;
  }

  std::vector<T> features_;
  std::vector<T> targets_;
  std::size_t size_ = 0;
  std::size_t feature_size_ = 0;
  std::size_t target_size_ = 0;
  non_finite_values non_finite_ = non_finite_values::refused;
};

}  // namespace tenfold
