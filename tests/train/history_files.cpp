// The files written about a training run: history::write_svg's curves, and tensorboard_logger's CRC and
// its refusals.
#include <doctest/doctest.h>

#include <tenfold/tensorboard.hpp>  // tenfold.hpp and tensorboard_logger

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../data/test_files.hpp"

using namespace tenfold;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The points of the polyline with this class attribute, as (x, y) pairs.
std::vector<std::pair<double, double>> points_of(const std::string& svg, const std::string& cls) {
  const std::size_t at = svg.find("<polyline class=\"" + cls + "\"");
  if (at == std::string::npos) return {};
  const std::size_t start = svg.find("points=\"", at) + 8;
  std::istringstream in(svg.substr(start, svg.find('"', start) - start));
  std::vector<std::pair<double, double>> out;
  double x, y;
  char comma;
  while (in >> x >> comma >> y) out.emplace_back(x, y);
  return out;
}

}  // namespace

TEST_CASE("history svg: each curve has one point per finite value, placed in the values' order") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> value(0.01, 3.0);
  history h;
  const std::size_t n = 3 + gen() % 20;
  for (std::size_t e = 1; e <= n; ++e) {
    epoch_record r;
    r.epoch = e;
    r.loss = value(gen);
    r.validation_loss = e == 2 ? NAN : value(gen);  // a value not computed is left out
    r.metric = value(gen);
    h.epochs.push_back(r);
  }
  test_files::scratch_dir dir;
  const std::string path = dir.file("curves.svg");
  REQUIRE(h.write_svg(path.c_str()).ok());
  const std::string svg = read_text(path);
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.find("</svg>") != std::string::npos);

  const auto train = points_of(svg, "loss training");
  const auto validation = points_of(svg, "loss validation");
  REQUIRE(train.size() == n);
  REQUIRE(validation.size() == n - 1);
  CHECK(points_of(svg, "metric training").size() == n);
  CHECK(points_of(svg, "metric validation").empty());
  // Later epochs to the right; a larger loss higher up (smaller y), across both curves of the panel.
  std::vector<std::pair<double, std::pair<double, double>>> all;  // value, point
  std::size_t v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    all.push_back({h.epochs[i].loss, train[i]});
    if (i > 0) CHECK(train[i].first > train[i - 1].first);
    if (i != 1) all.push_back({h.epochs[i].validation_loss, validation[v++]});
  }
  for (const auto& a : all)
    for (const auto& b : all)
      if (a.first < b.first) REQUIRE(a.second.second > b.second.second);
}

TEST_CASE("history svg: without a metric there is one panel; a folder is refused with the system's reason") {
  history h;
  for (std::size_t e = 1; e <= 3; ++e) h.epochs.push_back(epoch_record{.epoch = e, .loss = 1.0 / double(e)});
  test_files::scratch_dir dir;
  const std::string path = dir.file("loss.svg");
  REQUIRE(h.write_svg(path.c_str()).ok());
  const std::string svg = read_text(path);
  CHECK(points_of(svg, "loss training").size() == 3);
  CHECK(svg.find("metric") == std::string::npos);
  const auto refused = h.write_svg(dir.path().c_str());
  REQUIRE_FALSE(refused.ok());
  CHECK(std::string(refused.error().message) ==
        "history::write_svg: cannot open '" + dir.path() + "' for writing: " + std::strerror(EISDIR));
}

TEST_CASE("tensorboard: CRC-32C and its masking match the published check values") {
  const unsigned char digits[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  CHECK(detail::crc32c(digits, 9) == 0xE3069283u);  // the CRC-32C check value
  const unsigned char zeros[32] = {};
  CHECK(detail::crc32c(zeros, 32) == 0x8A9136AAu);  // RFC 3720, B.4: 32 bytes of zeros
  const std::uint32_t crc = detail::crc32c(digits, 9);
  CHECK(detail::masked_crc32c(digits, 9) == ((crc >> 15) | (crc << 17)) + 0xa282ead8u);
}

TEST_CASE("tensorboard: a folder that cannot be created is refused with the system's reason") {
  test_files::scratch_dir dir;
  const std::string file = dir.file("plain-file");
  test_files::write_text(file, "x");
  const std::string wanted = file + "/run";
  std::string message = "(no error)";
  try {
    (void)tensorboard_logger(wanted);
  } catch (const tenfold::exception& e) {
    message = e.what();
  }
  CHECK(message == "tensorboard_logger: cannot create the folder '" + wanted + "': " + std::strerror(ENOTDIR));
}
