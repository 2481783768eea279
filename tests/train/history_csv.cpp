// history::write_csv: one header line and one line per epoch, which parse back to the history's values
// (printed with 9 significant digits); values that were not computed are empty fields.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "fixtures.hpp"

using namespace tenfold;
using train_test::line_model;

namespace {

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::string field;
    std::istringstream s(line);
    while (std::getline(s, field, ',')) fields.push_back(field);
    if (!line.empty() && line.back() == ',') fields.push_back("");
    rows.push_back(fields);
  }
  return rows;
}

void check_field(const std::string& text, double value) {
  INFO("field '" << text << "', value " << value);
  if (std::isnan(value)) {
    CHECK(text.empty());
  } else {
    REQUIRE_FALSE(text.empty());
    CHECK(std::stod(text) == doctest::Approx(value).epsilon(1e-8));
  }
}

std::string scratch_path(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string(name) + "-" + std::to_string(getpid()) + ".csv")).string();
}

void check_round_trip(const history& h, const char* name) {
  const std::string path = scratch_path(name);
  REQUIRE(h.write_csv(path.c_str()).ok());
  const auto rows = read_csv(path);
  std::filesystem::remove(path);
  REQUIRE(rows.size() == h.epochs.size() + 1);
  CHECK(rows[0] == std::vector<std::string>{"epoch", "loss", "metric", "validation_loss", "validation_metric",
                                            "learning_rate", "seconds", "samples_per_second", "skipped_batches"});
  for (std::size_t e = 0; e < h.epochs.size(); ++e) {
    INFO("epoch " << e + 1);
    const auto& f = rows[e + 1];
    const auto& r = h.epochs[e];
    REQUIRE(f.size() == 9);
    CHECK(f[0] == std::to_string(r.epoch));
    check_field(f[1], r.loss);
    check_field(f[2], r.metric);
    check_field(f[3], r.validation_loss);
    check_field(f[4], r.validation_metric);
    check_field(f[5], r.learning_rate);
    check_field(f[6], r.seconds);
    check_field(f[7], r.samples_per_second);
    CHECK(f[8] == std::to_string(r.skipped_batches));
  }
}

}  // namespace

TEST_CASE("the history CSV parses back to the history") {
  line_model m(4);
  auto options = train_test::quiet(3);
  options.metric = metric::mae;
  options.validation_split = 0.25;
  const history h = fit(m, train_test::line_data(16, 0.5, 0.1), mse{}, sgd{.lr = 0.1}, options);
  REQUIRE(h.epochs.size() == 3);
  check_round_trip(h, "tenfold-history-full");
}

TEST_CASE("the history CSV leaves values that were not computed empty") {
  line_model m(4);
  const history h = fit(m, train_test::line_data(16, 0.5, 0.1), mse{}, sgd{.lr = 0.1}, train_test::quiet(2));
  REQUIRE(std::isnan(h.epochs[0].metric));
  REQUIRE(std::isnan(h.epochs[0].validation_loss));
  check_round_trip(h, "tenfold-history-sparse");
}
