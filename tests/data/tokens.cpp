// Token data: the character vocabulary (sorted distinct bytes, encode and decode, errors), the shipped Tiny
// Shakespeare text and its nanoGPT split, and the window sampler (targets shifted by one, every start
// reachable, the same batches for the same seed, short streams refused, no allocation).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "counting_allocator.hpp"
#include "error_text.hpp"
#include "random_data.hpp"

using namespace tenfold;

using test_support::error_of;

TEST_CASE("char_vocabulary numbers the sorted distinct characters and round-trips a text") {
  const std::string text = "to be, or not to be";
  const char_vocabulary vocab(text);
  CHECK(vocab.characters() == " ,benort");
  CHECK(vocab.size() == 8);
  CHECK(vocab.id_of(' ') == 0);
  CHECK(vocab.id_of('t') == 7);
  CHECK(vocab.char_of(2) == 'b');
  std::vector<float> ids(text.size());
  vocab.encode(text, ids.data());
  CHECK(ids[0] == 7.0f);
  CHECK(vocab.decode(ids.data(), ids.size()) == text);
  std::vector<double> wide(text.size());
  vocab.encode(text, wide.data());
  CHECK(vocab.decode(wide.data(), wide.size()) == text);
}

TEST_CASE("char_vocabulary refuses what it cannot number") {
  const char_vocabulary vocab("abc");
  CHECK(error_of([&] { (void)vocab.id_of('z'); }).find("'z') is not in the vocabulary") != std::string::npos);
  CHECK(!error_of([&] { (void)vocab.char_of(3); }).empty());
  for (float bad : {3.0f, -1.0f, 0.5f}) {
    const float ids[2] = {0, bad};
    CHECK(error_of([&] { (void)vocab.decode(ids, 2); }).find("id ") != std::string::npos);
  }
  CHECK(error_of([] { char_vocabulary empty(""); }).find("empty") != std::string::npos);
}

// The shipped text sits beside the MNIST sample in the project's data folder.
TEST_CASE("the shipped Tiny Shakespeare text has 65 characters and nanoGPT's 90/10 split") {
  const std::string text = load_text(TENFOLD_TEST_MNIST_DIR "/../tinyshakespeare/input.txt");
  CHECK(text.size() == 1115394);
  CHECK(text.rfind("First Citizen:", 0) == 0);
  const char_vocabulary vocab(text);
  CHECK(vocab.size() == 65);
  CHECK(vocab.characters().substr(0, 3) == "\n !");
  CHECK(split_point(text.size()) == 1003854);
  CHECK(split_point(10, 0.5) == 5);
  CHECK(!error_of([] { (void)split_point(10, 1.5); }).empty());
  CHECK(!error_of([] { (void)load_text("no/such/file.txt"); }).empty());
}

TEST_CASE("token_windows cuts windows and their targets shifted by one, from every start") {
  constexpr std::size_t length = 23, n = 5, rows = 4;
  std::vector<float> stream(length);
  for (std::size_t i = 0; i < length; ++i) stream[i] = float(i);  // a token's value is its position
  const token_windows<float> windows(stream.data(), length, n);
  CHECK(windows.starts() == length - n);
  rng g(3);
  std::vector<float> x(rows * n), y(rows * n);
  std::vector<int> seen(length, 0);
  for (int draw = 0; draw < 200; ++draw) {
    windows.sample(g, rows, x.data(), y.data());
    for (std::size_t r = 0; r < rows; ++r) {
      const float start = x[r * n];
      ++seen[std::size_t(start)];
      for (std::size_t t = 0; t < n; ++t) {
        CHECK(x[r * n + t] == start + float(t));
        CHECK(y[r * n + t] == start + float(t) + 1);
      }
    }
  }
  // Every start 0 .. length − n − 1 is drawn (800 draws of 18 starts), and none later: the last target is
  // the stream's last token.
  for (std::size_t s = 0; s < length; ++s) CHECK((seen[s] > 0) == (s < length - n));
}

TEST_CASE("token_windows gives the same batches for the same seed, and allocates nothing") {
  TENFOLD_SEEDED(seed);
  rng source(seed);
  const auto stream = test_support::labels<float>(source, 101, 11);
  const token_windows<float> windows(stream.data(), stream.size(), 7);
  std::vector<float> x1(3 * 7), y1(3 * 7), x2(3 * 7), y2(3 * 7), x3(3 * 7), y3(3 * 7);
  rng a(seed + 1), b(seed + 1), c(seed + 2);
  const long before = thread_heap_allocations;
  for (int i = 0; i < 5; ++i) {
    windows.sample(a, 3, x1.data(), y1.data());
    windows.sample(b, 3, x2.data(), y2.data());
  }
  windows.sample(c, 3, x3.data(), y3.data());
  CHECK(thread_heap_allocations - before == 0);
  CHECK(x1 == x2);
  CHECK(y1 == y2);
  rng a2(seed + 1);
  windows.sample(a2, 3, x1.data(), y1.data());
  bool differs = false;
  for (int i = 0; i < 20 && !differs; ++i) {
    windows.sample(c, 3, x3.data(), y3.data());
    differs = x3 != x1;
  }
  CHECK(differs);
}

TEST_CASE("token_windows refuses a stream shorter than a window and its target") {
  const std::vector<float> stream(5, 1.0f);
  CHECK(error_of([&] { token_windows<float>(stream.data(), 5, 5); }).find("too short") != std::string::npos);
  CHECK(error_of([&] { token_windows<float>(stream.data(), 5, 4); }).empty());
  const token_windows<float> one(stream.data(), 5, 4);
  CHECK(one.starts() == 1);
  float x[4], y[4];
  CHECK(!error_of([&] { one.window_at(1, x, y); }).empty());
}
