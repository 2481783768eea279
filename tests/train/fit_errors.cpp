// The refusals of fit(), evaluate(), history and dataset: each sentence in full.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "train_helpers.hpp"

using namespace tenfold;
using train_test::error_of;

namespace {

using classifier = sequential<input<4>, dense<8>, relu, dense<10>, softmax>;

fit_options quiet(std::size_t epochs) {
  fit_options o;
  o.epochs = epochs;
  o.progress = progress::silent;
  return o;
}

// 64 samples with labels 0..9, one of which, at `bad_index`, is replaced by `bad_label`.
dataset<float> labelled(std::size_t bad_index, float bad_label) {
  auto d = train_test::random_data(64, 4, 2, 21);
  std::vector<float> y(64);
  for (std::size_t i = 0; i < 64; ++i) y[i] = float(i % 10);
  y[bad_index] = bad_label;
  return dataset<float>(d.feature_data(), std::move(y), 4, 1);
}

}  // namespace

TEST_CASE("fit: zero epochs is an error, not an empty history") {
  model<classifier, 8> net(1);
  CHECK(error_of([&] { fit(net, labelled(0, 0), sparse_categorical_cross_entropy{}, adam{}, quiet(0)); }) ==
        "fit: epochs is 0; train for at least one epoch");
}

TEST_CASE("history: last() of an empty history is a checked error") {
  const history h;
  CHECK(error_of([&] { (void)h.last(); }) == "history::last: the history holds no epochs");
}

TEST_CASE("evaluate: an empty data set is an error, not NaN") {
  model<classifier, 8> net(2);
  const dataset<float> empty(4, 1);
  CHECK(error_of([&] { evaluate(net, empty, sparse_categorical_cross_entropy{}); }) ==
        "evaluate: the data set holds no samples");
}

TEST_CASE("fit and evaluate: mse or mae beside a loss on class indices is refused, not read past the targets") {
  model<classifier, 8> net(3);
  const dataset<float> data = labelled(0, 0);
  for (const metric kind : {metric::mse, metric::mae}) {
    const std::string name = kind == metric::mse ? "mse" : "mae";
    const std::string rest = ": metric::" + name +
                             " compares each of the 10 outputs with the target in its place, but the loss takes 1 "
                             "target value per row (a class index); use metric::accuracy";
    fit_options o = quiet(1);
    o.metric = kind;
    CHECK(error_of([&] { fit(net, data, sparse_categorical_cross_entropy{}, adam{}, o); }) == "fit" + rest);
    CHECK(error_of([&] { evaluate(net, data, sparse_categorical_cross_entropy{}, kind); }) == "evaluate" + rest);
  }
  // One-hot targets are as wide as the outputs, so the same metrics are taken.
  const dataset<float> one_hot = data.one_hot(10);
  fit_options o = quiet(1);
  o.metric = metric::mse;
  CHECK(std::isfinite(fit(net, one_hot, categorical_cross_entropy{}, adam{}, o).last().metric));
  CHECK(std::isfinite(evaluate(net, one_hot, categorical_cross_entropy{}, metric::mae).metric));
}

TEST_CASE("labels: an out-of-range class index is named by its index in the data set, whatever the shuffle") {
  const unsigned seed = std::random_device{}();
  std::mt19937 gen(seed);
  const std::size_t bad = gen() % 64;
  INFO("seed = " << seed << ", bad label at " << bad);
  model<classifier, 8> net(3);
  fit_options o = quiet(2);
  o.seed = gen();
  const std::string index = std::to_string(bad);
  CHECK(error_of([&] { fit(net, labelled(bad, 12), sparse_categorical_cross_entropy{}, adam{}, o); }) ==
        "fit: label 12 of sample " + index + " is not a class index in 0..9");
  CHECK(error_of([&] { fit(net, labelled(bad, -1), sparse_categorical_cross_entropy{}, adam{}, o); }) ==
        "fit: label -1 of sample " + index + " is not a class index in 0..9");
  CHECK(error_of([&] { fit(net, labelled(bad, 2.5f), sparse_categorical_cross_entropy{}, adam{}, o); }) ==
        "fit: label 2.5 of sample " + index + " is not a class index in 0..9");
  o.validation_split = 0.25;  // the held-out part still counts in the data set's own indices
  CHECK(error_of([&] { fit(net, labelled(bad, 10), sparse_categorical_cross_entropy{}, adam{}, o); }) ==
        "fit: label 10 of sample " + index + " is not a class index in 0..9");
  CHECK(error_of([&] { evaluate(net, labelled(bad, 10), sparse_categorical_cross_entropy{}); }) ==
        "evaluate: label 10 of sample " + index + " is not a class index in 0..9");
  CHECK(error_of([&] {
          fit_with_validation(net, labelled(0, 0), labelled(bad, 10), sparse_categorical_cross_entropy{}, adam{},
                              quiet(1));
        }) == "fit (validation set): label 10 of sample " + index + " is not a class index in 0..9");
}

TEST_CASE("labels: regularized sparse cross-entropy is checked the same way") {
  model<classifier, 8> net(4);
  CHECK(error_of([&] {
          fit(net, labelled(37, 10), regularized<sparse_categorical_cross_entropy, l2>{}, adam{}, quiet(1));
        }) == "fit: label 10 of sample 37 is not a class index in 0..9");
}

TEST_CASE("dataset: NaN and infinite values are refused with the first one's place, unless allowed") {
  std::vector<float> x(20, 1.0f), y(5, 0.0f);
  x[13] = std::numeric_limits<float>::quiet_NaN();
  x[17] = std::numeric_limits<float>::infinity();
  CHECK(error_of([&] { dataset<float>(x, y, 4, 1); }) ==
        "dataset: feature 1 of sample 3 is NaN (build the dataset with non_finite_values::allowed to keep such "
        "values)");
  CHECK(dataset<float>(x, y, 4, 1, non_finite_values::allowed).size() == 5);
  std::vector<double> xd(20, 1.0), yd(10, 0.0);
  yd[7] = -std::numeric_limits<double>::infinity();
  CHECK(error_of([&] { dataset<double>(xd, yd, 4, 2); }) ==
        "dataset: target 1 of sample 3 is infinite (build the dataset with non_finite_values::allowed to keep such "
        "values)");
  dataset<float> grown(4, 1);
  const float row[4] = {0, 0, 0, 0}, target = std::numeric_limits<float>::quiet_NaN();
  grown.append(row, row);
  CHECK(error_of([&] { grown.append(row, &target); }) ==
        "dataset: target 0 of sample 1 is NaN (build the dataset with non_finite_values::allowed to keep such "
        "values)");
}

TEST_CASE("history: write_csv gives the system's reason when the file cannot be written") {
  history h;
  h.epochs.push_back(epoch_record{});
  const std::string dir = std::filesystem::temp_directory_path().string();
  const std::string expected = "history::write_csv: cannot open '" + dir + "' for writing: " + std::strerror(EISDIR);
  const auto written = h.write_csv(dir.c_str());
  REQUIRE_FALSE(written.ok());
  CHECK(std::string(written.error().message) == expected);
  CHECK(written.error().code == errc::io_error);
  const std::string missing = dir + "/no-such-folder-for-tenfold/history.csv";
  const auto not_found = h.write_csv(missing.c_str());
  CHECK(std::string(not_found.error().message) ==
        "history::write_csv: cannot open '" + missing + "' for writing: " + std::strerror(ENOENT));
  CHECK(not_found.error().code == errc::file_not_found);
}
