// dataset<T>: construction checks, gather, split, subset and one-hot encoding against plain loops.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace tenfold;

namespace {

bool contains(const char* text, const std::string& part) { return std::string(text).find(part) != std::string::npos; }

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const tenfold::exception& e) {
    return e.what();
  }
  return "(no error)";
}

struct table_data {
  std::size_t n, fs, ts;
  std::vector<double> x, y;
};

table_data make_random(std::mt19937& gen) {
  table_data r{1 + gen() % 41, 1 + gen() % 13, 1 + gen() % 3, {}, {}};
  std::normal_distribution<double> normal;
  for (std::size_t i = 0; i < r.n * r.fs; ++i) r.x.push_back(normal(gen));
  for (std::size_t i = 0; i < r.n * r.ts; ++i) r.y.push_back(normal(gen));
  return r;
}

}  // namespace

TEST_CASE("dataset: rows are where the layout says") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  const table_data r = make_random(gen);
  const dataset<double> d(r.x, r.y, r.fs, r.ts);
  REQUIRE(d.size() == r.n);
  CHECK(d.feature_size() == r.fs);
  CHECK(d.target_size() == r.ts);
  for (std::size_t i = 0; i < r.n; ++i) {
    for (std::size_t f = 0; f < r.fs; ++f) REQUIRE(d.features(i)[f] == r.x[i * r.fs + f]);
    for (std::size_t t = 0; t < r.ts; ++t) REQUIRE(d.targets(i)[t] == r.y[i * r.ts + t]);
  }

  dataset<double> built(r.fs, r.ts);
  for (std::size_t i = 0; i < r.n; ++i) built.append(&r.x[i * r.fs], &r.y[i * r.ts]);
  CHECK(built.size() == r.n);
  CHECK(built.feature_data() == r.x);
  CHECK(built.target_data() == r.y);
}

TEST_CASE("dataset: inconsistent sizes are refused") {
  CHECK(contains(error_of([] {
                   dataset<float>({1, 2, 3, 4, 5}, {0, 1}, 2, 1);
                 }).c_str(),
                 "5 feature values are not a whole number of rows of 2"));
  CHECK(contains(error_of([] {
                   dataset<float>({1, 2, 3, 4}, {0, 1, 2}, 2, 1);
                 }).c_str(),
                 "2 samples of 1 targets need 2 target values, but 3 were given"));
  CHECK(contains(error_of([] { dataset<float>({}, {}, 0, 1); }).c_str(), "at least one feature"));
}

TEST_CASE("dataset: gather copies the named rows into a batch buffer") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  const table_data r = make_random(gen);
  const dataset<double> d(r.x, r.y, r.fs, r.ts);
  const std::size_t batch = 1 + gen() % 17;
  std::vector<std::size_t> idx(batch);
  for (auto& i : idx) i = gen() % r.n;  // repeats allowed
  std::vector<double> xb(batch * r.fs, -99), yb(batch * r.ts, -99);
  d.gather(idx.data(), batch, xb.data(), yb.data());
  for (std::size_t b = 0; b < batch; ++b) {
    for (std::size_t f = 0; f < r.fs; ++f) REQUIRE(xb[b * r.fs + f] == r.x[idx[b] * r.fs + f]);
    for (std::size_t t = 0; t < r.ts; ++t) REQUIRE(yb[b * r.ts + t] == r.y[idx[b] * r.ts + t]);
  }
  // Targets are optional.
  std::vector<double> xonly(batch * r.fs);
  d.gather(idx.data(), batch, xonly.data(), nullptr);
  CHECK(xonly == xb);

  const dataset<double> picked = d.subset(idx);
  CHECK(picked.size() == batch);
  CHECK(picked.feature_data() == xb);
  CHECK(picked.target_data() == yb);
  std::vector<std::size_t> past = {0, r.n};
  CHECK(contains(error_of([&] { (void)d.subset(past); }).c_str(), "index " + std::to_string(r.n) + " (position 1)"));
}

TEST_CASE("dataset: split keeps the order and holds out the last round(fraction x n) samples") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  const table_data r = make_random(gen);
  const dataset<double> d(r.x, r.y, r.fs, r.ts);
  for (const double fraction :
       {0.0, 0.1, 0.2, 0.25, 1.0 / 3.0, 0.5, 0.9, 1.0, std::uniform_real_distribution<>()(gen)}) {
    INFO("fraction = " << fraction << ", n = " << r.n);
    const auto [kept, held] = d.split(fraction);
    const auto expected_held = static_cast<std::size_t>(std::floor(fraction * static_cast<double>(r.n) + 0.5));
    REQUIRE(held.size() == expected_held);
    REQUIRE(kept.size() == r.n - expected_held);
    for (std::size_t i = 0; i < r.n; ++i) {
      const double* row = i < kept.size() ? kept.features(i) : held.features(i - kept.size());
      const double* target = i < kept.size() ? kept.targets(i) : held.targets(i - kept.size());
      REQUIRE(row[0] == r.x[i * r.fs]);
      REQUIRE(target[r.ts - 1] == r.y[i * r.ts + r.ts - 1]);
    }
  }
  CHECK(contains(error_of([&] { (void)d.split(1.5); }).c_str(), "must lie in [0, 1]"));
  const auto [none, still_none] = dataset<float>().split(0.5);
  CHECK(none.empty());
  CHECK(still_none.empty());
  CHECK(contains(error_of([&] { (void)d.split(std::nan("")); }).c_str(), "must lie in [0, 1]"));
}

TEST_CASE("dataset: one_hot puts a 1 at the class and 0 elsewhere") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  const std::size_t n = 1 + gen() % 50, classes = 2 + gen() % 9;
  std::vector<float> x(n * 3), labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    labels[i] = static_cast<float>(gen() % classes);
    x[i * 3] = static_cast<float>(i);
  }
  const dataset<float> d(x, labels, 3, 1);
  const dataset<float> h = d.one_hot(classes);
  REQUIRE(h.size() == n);
  REQUIRE(h.target_size() == classes);
  CHECK(h.feature_data() == x);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < classes; ++c)
      REQUIRE(h.targets(i)[c] == (static_cast<float>(c) == labels[i] ? 1.f : 0.f));

  std::vector<float> bad = labels;
  const std::size_t at = gen() % n;
  bad[at] = static_cast<float>(classes);
  const dataset<float> out_of_range(x, bad, 3, 1);
  CHECK(contains(error_of([&] { (void)out_of_range.one_hot(classes); }).c_str(),
                 "label " + std::to_string(classes) + " at index " + std::to_string(at) + " is outside 0.." +
                     std::to_string(classes - 1)));
  bad[at] = 0.5f;
  const dataset<float> fractional(x, bad, 3, 1);
  CHECK(contains(error_of([&] { (void)fractional.one_hot(classes); }).c_str(), "label 0.5 at index"));
  CHECK(contains(error_of([&] { (void)h.one_hot(classes); }).c_str(), "needs a single class index"));
}
