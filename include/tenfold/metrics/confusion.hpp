// The k x k confusion matrix, and precision, recall and F1 averaged over classes (macro averaging).
//
// Rows are true classes, columns predicted ones (scikit-learn's layout): counts[t * k + p] is the number
// of samples of class t predicted as p, so row sums are class sizes and the diagonal is what was right.
// Each class c gives binary counts (c against the rest), and the macro average is the plain mean of the
// per-class values over the classes that occur, in the truth or in the predictions: a class absent from
// both says nothing about the classifier and is left out, as scikit-learn does by default. Per-class
// zero denominators give 0 (see precision_recall.hpp).
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <vector>

#include "labels.hpp"
#include "precision_recall.hpp"

namespace tenfold::metrics {

// Adds the n samples to counts[0..k*k) (which the caller zeroes first, or keeps to accumulate over batches).
// Raises when a label is not a class index below k. No allocation.
template <class P, class L>
void add_to_confusion(const P* predicted, const L* truth, std::size_t n, std::size_t k, std::size_t* counts) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t t = detail::class_index(truth[i], k, "confusion_matrix", "true", i);
    const std::size_t p = detail::class_index(predicted[i], k, "confusion_matrix", "predicted", i);
    ++counts[t * k + p];
  }
}

class confusion_matrix {
 public:
  explicit confusion_matrix(std::size_t classes) : classes_(classes), counts_(classes * classes, 0) {
    if (classes == 0)
      raise(error::make(errc::invalid_argument, "metrics::confusion_matrix: the number of classes must be at least 1"));
  }
  template <class P, class L>
  confusion_matrix(const P* predicted, const L* truth, std::size_t n, std::size_t classes) : confusion_matrix(classes) {
    add(predicted, truth, n);
  }

  template <class P, class L>
  void add(const P* predicted, const L* truth, std::size_t n) {
    add_to_confusion(predicted, truth, n, classes_, counts_.data());
  }

  std::size_t classes() const { return classes_; }
  // Samples of true class t predicted as p.
  std::size_t operator()(std::size_t t, std::size_t p) const { return counts_[t * classes_ + p]; }
  const std::size_t* data() const { return counts_.data(); }
  std::size_t total() const {
    std::size_t s = 0;
    for (const std::size_t c : counts_) s += c;
    return s;
  }
  // Samples whose true class is c (a row sum), and samples predicted as c (a column sum).
  std::size_t true_count(std::size_t c) const {
    std::size_t s = 0;
    for (std::size_t p = 0; p < classes_; ++p) s += (*this)(c, p);
    return s;
  }
  std::size_t predicted_count(std::size_t c) const {
    std::size_t s = 0;
    for (std::size_t t = 0; t < classes_; ++t) s += (*this)(t, c);
    return s;
  }
  // Class c against the rest.
  binary_counts one_vs_rest(std::size_t c) const {
    binary_counts b;
    b.true_positives = (*this)(c, c);
    b.false_negatives = true_count(c) - b.true_positives;
    b.false_positives = predicted_count(c) - b.true_positives;
    b.true_negatives = total() - b.true_positives - b.false_negatives - b.false_positives;
    return b;
  }
  // Fraction on the diagonal; NaN when empty.
  double accuracy() const {
    std::size_t right = 0;
    for (std::size_t c = 0; c < classes_; ++c) right += (*this)(c, c);
    const std::size_t n = total();
    return n == 0 ? detail::nan : static_cast<double>(right) / static_cast<double>(n);
  }

  double macro_precision() const { return macro(static_cast<double (*)(const binary_counts&)>(&precision)); }
  double macro_recall() const { return macro(static_cast<double (*)(const binary_counts&)>(&recall)); }
  double macro_f1() const { return macro(static_cast<double (*)(const binary_counts&)>(&f1_score)); }

 private:
  // Mean of metric(one_vs_rest(c)) over the classes that occur; NaN when no class does (no samples).
  double macro(double (*metric)(const binary_counts&)) const {
    double sum = 0;
    std::size_t present = 0;
    for (std::size_t c = 0; c < classes_; ++c) {
      if (true_count(c) == 0 && predicted_count(c) == 0) continue;
      sum += metric(one_vs_rest(c));
      ++present;
    }
    return present == 0 ? detail::nan : sum / static_cast<double>(present);
  }

  std::size_t classes_;
  std::vector<std::size_t> counts_;
};

// Macro-averaged metrics straight from labels (they build a k x k matrix, so they allocate once).
template <class P, class L>
double macro_precision(const P* predicted, const L* truth, std::size_t n, std::size_t classes) {
  return confusion_matrix(predicted, truth, n, classes).macro_precision();
}
template <class P, class L>
double macro_recall(const P* predicted, const L* truth, std::size_t n, std::size_t classes) {
  return confusion_matrix(predicted, truth, n, classes).macro_recall();
}
template <class P, class L>
double macro_f1(const P* predicted, const L* truth, std::size_t n, std::size_t classes) {
  return confusion_matrix(predicted, truth, n, classes).macro_f1();
}

}  // namespace tenfold::metrics
