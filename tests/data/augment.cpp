// Data augmentation: each transform against small hand-computed images (a flip of a 3×4 image, shifts by one
// pixel, a crop with padding, rotations by 90, 180 and 45 degrees), the random transforms against an explicit
// pad-and-cut or clamp over many draws, determinism for a seed, no allocation per batch, and fit() applying
// it to training batches only, with targets left as they are.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <functional>
#include <ratio>
#include <set>
#include <utility>
#include <vector>

#include "counting_allocator.hpp"
#include "random_data.hpp"

using namespace tenfold;
using namespace tenfold::augment;

namespace {

// The 3×4 one-channel image 1 2 3 4 / 5 6 7 8 / 9 10 11 12.
std::vector<float> three_by_four() {
  std::vector<float> v(12);
  for (std::size_t i = 0; i < 12; ++i) v[i] = float(i + 1);
  return v;
}

image_view<float> view_of(std::vector<float>& v, std::size_t h, std::size_t w, std::size_t c) {
  return image_view<float>{v.data(), h, w, c};
}

// Pads with `padding` zeros on every side and cuts the h × w window whose corner is (top, left): what
// torchvision's RandomCrop does, written out.
std::vector<float> pad_and_cut(const std::vector<float>& in, std::size_t h, std::size_t w, std::size_t c,
                               std::size_t padding, std::size_t top, std::size_t left) {
  const std::size_t ph = h + 2 * padding, pw = w + 2 * padding;
  std::vector<float> padded(ph * pw * c, 0.0f);
  for (std::size_t r = 0; r < h; ++r)
    for (std::size_t col = 0; col < w; ++col)
      for (std::size_t k = 0; k < c; ++k)
        padded[((r + padding) * pw + col + padding) * c + k] = in[(r * w + col) * c + k];
  std::vector<float> out(h * w * c);
  for (std::size_t r = 0; r < h; ++r)
    for (std::size_t col = 0; col < w; ++col)
      for (std::size_t k = 0; k < c; ++k) out[(r * w + col) * c + k] = padded[((r + top) * pw + col + left) * c + k];
  return out;
}

}  // namespace

TEST_CASE("flip of a 3x4 image, and of two channels that stay together") {
  auto image = three_by_four();
  flip_horizontally(view_of(image, 3, 4, 1));
  CHECK(image == std::vector<float>{4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9});

  // [2, 3, 2]: pixel (r, c) holds (10r + c, 100 + 10r + c).
  std::vector<float> two(12);
  for (std::size_t r = 0; r < 2; ++r)
    for (std::size_t c = 0; c < 3; ++c)
      two[(r * 3 + c) * 2] = float(10 * r + c), two[(r * 3 + c) * 2 + 1] = float(100 + 10 * r + c);
  flip_horizontally(view_of(two, 2, 3, 2));
  CHECK(two == std::vector<float>{2, 102, 1, 101, 0, 100, 12, 112, 11, 111, 10, 110});

  rng g(1);
  auto always = three_by_four(), never = three_by_four();
  horizontal_flip<std::ratio<1>>{}(view_of(always, 3, 4, 1), static_cast<float*>(nullptr), g);
  horizontal_flip<std::ratio<0>>{}(view_of(never, 3, 4, 1), static_cast<float*>(nullptr), g);
  CHECK(always == std::vector<float>{4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9});
  CHECK(never == three_by_four());
}

TEST_CASE("shifts by one pixel, with the nearest edge pixel or zeros filling in") {
  std::vector<float> spare(12);
  auto down = three_by_four();
  translate(view_of(down, 3, 4, 1), spare.data(), 1, 0, pixel_fill::nearest);
  CHECK(down == std::vector<float>{1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8});
  auto left = three_by_four();
  translate(view_of(left, 3, 4, 1), spare.data(), 0, -1, pixel_fill::nearest);
  CHECK(left == std::vector<float>{2, 3, 4, 4, 6, 7, 8, 8, 10, 11, 12, 12});
  auto right = three_by_four();
  translate(view_of(right, 3, 4, 1), spare.data(), 0, 1, pixel_fill::zeros);
  CHECK(right == std::vector<float>{0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11});
  auto up_left = three_by_four();
  translate(view_of(up_left, 3, 4, 1), spare.data(), -1, -1, pixel_fill::zeros);
  CHECK(up_left == std::vector<float>{6, 7, 8, 0, 10, 11, 12, 0, 0, 0, 0, 0});
}

TEST_CASE("a crop with padding 1: the window at the top row, two columns in") {
  // Padded to 5×6 with zeros; the 3×4 window at (0, 2) holds row −1 (zeros) and columns 1..4 (4 is padding).
  const auto image = three_by_four();
  CHECK(pad_and_cut(image, 3, 4, 1, 1, 0, 2) == std::vector<float>{0, 0, 0, 0, 2, 3, 4, 0, 6, 7, 8, 0});
  // random_crop draws the window's top, then its left corner, each in [0, 2]: with a generator that draws
  // (0, 2), it cuts exactly that window.
  for (std::uint64_t seed = 0;; ++seed) {
    rng probe(seed);
    if (probe.below(3) != 0 || probe.below(3) != 2) continue;
    rng g(seed);
    auto cropped = image;
    std::vector<float> spare(12);
    random_crop<1>{}(view_of(cropped, 3, 4, 1), spare.data(), g);
    CHECK(cropped == std::vector<float>{0, 0, 0, 0, 2, 3, 4, 0, 6, 7, 8, 0});
    break;
  }
}

TEST_CASE("random_crop against an explicit pad-and-cut, and random_shift within its bound, over many draws") {
  TENFOLD_SEEDED(seed);
  rng data(seed);
  const auto image = test_support::uniform<float>(data, 5 * 6 * 2, 1, 2);  // never zero
  std::vector<float> spare(image.size());
  rng g(seed + 1);
  std::set<std::pair<std::size_t, std::size_t>> corners;
  for (int i = 0; i < 1000; ++i) {
    rng copy = g;
    const std::size_t top = copy.below(5), left = copy.below(5);
    corners.insert({top, left});
    auto cropped = image;
    random_crop<2>{}(view_of(cropped, 5, 6, 2), spare.data(), g);
    CHECK(cropped == pad_and_cut(image, 5, 6, 2, 2, top, left));
  }
  CHECK(corners.size() == 25);  // every window occurs (1000 draws over 25: one is missing with odds below 1e-16)

  std::set<std::pair<long, long>> offsets;
  for (int i = 0; i < 200; ++i) {
    rng copy = g;
    const long down = long(copy.below(3)) - 1, right = long(copy.below(3)) - 1;
    offsets.insert({down, right});
    auto shifted = image;
    random_shift<1>{}(view_of(shifted, 5, 6, 2), spare.data(), g);
    for (long r = 0; r < 5; ++r)
      for (long c = 0; c < 6; ++c)
        for (std::size_t k = 0; k < 2; ++k) {
          const long sr = std::min(std::max(r - down, 0L), 4L), sc = std::min(std::max(c - right, 0L), 5L);
          CHECK(shifted[std::size_t(r * 6 + c) * 2 + k] == image[std::size_t(sr * 6 + sc) * 2 + k]);
        }
  }
  CHECK(offsets.size() == 9);  // (200 draws over 9: one is missing with odds below 1e-9)
}

TEST_CASE("rotations by 0, 90, 180 and 45 degrees, bilinear with zeros outside") {
  // a b c / d e f / g h i as 1..9.
  std::vector<float> image{1, 2, 3, 4, 5, 6, 7, 8, 9}, spare(9);
  auto check_rotation = [&](double degrees, const std::vector<float>& expected) {
    auto rotated = image;
    rotate(view_of(rotated, 3, 3, 1), spare.data(), degrees);
    for (std::size_t i = 0; i < 9; ++i) {
      INFO(degrees << " degrees, pixel " << i);
      CHECK(rotated[i] == doctest::Approx(expected[i]).epsilon(1e-6));
    }
  };
  check_rotation(0, image);
  check_rotation(90, {3, 6, 9, 2, 5, 8, 1, 4, 7});  // counter-clockwise: c f i / b e h / a d g
  check_rotation(-90, {7, 4, 1, 8, 5, 2, 9, 6, 3});
  check_rotation(180, {9, 8, 7, 6, 5, 4, 3, 2, 1});
  // All ones turned by 45°: the middle of each edge reads between four pixels inside (1); a corner reads at
  // √2 − 1 of a pixel beyond the edge, so it keeps 1 − (√2 − 1) = 2 − √2.
  image.assign(9, 1.0f);
  const float corner = float(2 - std::sqrt(2.0));
  check_rotation(45, {corner, 1, corner, 1, 1, 1, corner, 1, corner});

  // random_rotation draws its angle uniformly in [−max, max].
  rng g(5);
  for (int i = 0; i < 20; ++i) {
    rng copy = g;
    const double degrees = copy.uniform(-30.0, 30.0);
    CHECK(std::fabs(degrees) <= 30.0);
    auto expected = image, actual = image;
    rotate(view_of(expected, 3, 3, 1), spare.data(), degrees);
    random_rotation<std::ratio<30>>{}(view_of(actual, 3, 3, 1), spare.data(), g);
    CHECK(actual == expected);
  }
}

TEST_CASE("gaussian noise adds stddev times the generator's normal draws") {
  TENFOLD_SEEDED(seed);
  std::vector<double> image(20 * 20 * 3, 0.5);
  rng g(seed), copy(seed);
  gaussian_noise<std::ratio<1, 10>>{}(image_view<double>{image.data(), 20, 20, 3}, static_cast<double*>(nullptr), g);
  double sum = 0, squares = 0;
  for (double v : image) {
    CHECK(v == doctest::Approx(0.5 + 0.1 * copy.normal()).epsilon(1e-14));
    sum += v - 0.5, squares += (v - 0.5) * (v - 0.5);
  }
  const double n = double(image.size()), mean = sum / n, sd = std::sqrt(squares / n - mean * mean);
  CHECK(std::fabs(mean) < 5 * 0.1 / std::sqrt(n));
  CHECK(std::fabs(sd - 0.1) < 0.01);
}

TEST_CASE("an augmentation applies its transforms in order to every sample, the same for the same seed") {
  TENFOLD_SEEDED(seed);
  rng data(seed);
  using shape_type = shape<4, 5, 3>;
  using pipeline = augmentation<float, shape_type, random_crop<1>, horizontal_flip<>, random_shift<1>,
                                random_rotation<std::ratio<10>>, gaussian_noise<std::ratio<1, 20>>>;
  const auto batch = test_support::uniform<float>(data, 7 * 60);
  pipeline a(seed), b(seed), other(seed + 1);
  auto x = batch, y = batch, z = batch;
  a(x.data(), 7);
  b(y.data(), 7);
  other(z.data(), 7);
  CHECK(x == y);
  CHECK(x != z);
  CHECK(x != batch);

  // The same, one transform at a time with one generator.
  rng g(seed);
  auto by_hand = batch;
  std::vector<float> spare(60);
  for (std::size_t r = 0; r < 7; ++r) {
    const image_view<float> image{by_hand.data() + r * 60, 4, 5, 3};
    random_crop<1>{}(image, spare.data(), g);
    horizontal_flip<>{}(image, spare.data(), g);
    random_shift<1>{}(image, spare.data(), g);
    random_rotation<std::ratio<10>>{}(image, spare.data(), g);
    gaussian_noise<std::ratio<1, 20>>{}(image, spare.data(), g);
  }
  CHECK(by_hand == x);
}

TEST_CASE("an augmentation changes only the rows it is given and allocates nothing per batch") {
  using pipeline = augmentation<float, shape<6, 6, 2>, random_crop<2>, horizontal_flip<>, random_shift<2>,
                                random_rotation<std::ratio<15>>, gaussian_noise<std::ratio<1, 10>>>;
  pipeline augment(3);
  // Five rows of features, then values that stand for whatever follows them (targets, another buffer).
  std::vector<float> buffer(5 * 72 + 16, 0.25f);
  const long before = heap_allocations.load();
  for (int batch = 0; batch < 50; ++batch) augment(buffer.data(), 5);
  augment(buffer.data(), 5, 72);
  CHECK(heap_allocations.load() == before);
  for (std::size_t i = 5 * 72; i < buffer.size(); ++i) CHECK(buffer[i] == 0.25f);
  CHECK_THROWS_WITH_AS(augment(buffer.data(), 5, 71),
                       "augmentation: it is for [6, 6, 2] samples (72 values), not samples of 71 values",
                       tenfold::exception);
}

TEST_CASE("fit applies options.augment to each training batch, with targets untouched and nothing allocated") {
  // A hook that checks what it gets (the gathered batch, in order without shuffling) and then zeroes it:
  // the dense layer then never sees an input, so its weights cannot move while its bias does.
  const std::vector<float> features{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
  const std::vector<float> targets{1, -1, 2, -2, 3};
  dataset<float> data(features, targets, 4, 1);
  model<sequential<input<2, 2, 1>, flatten, dense<1>>, 2> m(4);
  const float weights_before[4] = {m.params()[0], m.params()[1], m.params()[2], m.params()[3]};
  const float bias_before = m.params()[4];
  std::size_t calls = 0, first_row = 0;
  bool saw_dataset_rows = true;
  fit_options options;
  options.epochs = 3;
  options.batch_size = 2;
  options.shuffle = false;
  options.progress = progress::silent;
  options.augment = [&](float* x, std::size_t rows, std::size_t sample_size) {
    ++calls;
    CHECK(sample_size == 4);
    for (std::size_t i = 0; i < rows * sample_size; ++i) saw_dataset_rows &= x[i] == features[first_row * 4 + i];
    first_row = (first_row + rows) % 5;
    for (std::size_t i = 0; i < rows * sample_size; ++i) x[i] = 0;
  };
  fit(m, data, mse{}, sgd{.lr = 0.1}, options);
  CHECK(calls == 3 * 3);  // batches of 2, 2 and 1 each epoch
  CHECK(saw_dataset_rows);
  for (std::size_t i = 0; i < 4; ++i) CHECK(m.params()[i] == weights_before[i]);
  CHECK(m.params()[4] != bias_before);
  CHECK(data.feature_data() == features);
  CHECK(data.target_data() == targets);

  // Validation batches are not augmented: with a split, the hook sees only the training part.
  calls = 0;
  first_row = 0;
  options.validation_split = 0.4;  // 3 training samples: batches of 2 and 1
  options.epochs = 1;
  fit(m, data, mse{}, sgd{.lr = 0.1}, options);
  CHECK(calls == 2);

  // With an augmentation, the epochs after the first allocate nothing.
  model<sequential<input<4, 4, 1>, flatten, dense<3>, softmax>, 8> classifier(2);
  rng g(2);
  const dataset<float> images(test_support::uniform<float>(g, 40 * 16), test_support::labels<float>(g, 40, 3), 16, 1);
  fit_options image_options;
  image_options.epochs = 4;
  image_options.progress = progress::silent;
  image_options.augment =
      augmentation<float, shape<4, 4, 1>, random_crop<1>, horizontal_flip<>, random_rotation<std::ratio<10>>>(7);
  std::vector<long> count_after;
  count_after.reserve(4);
  image_options.callbacks.push_back([&](const epoch_record&) {
    count_after.push_back(heap_allocations.load());
    return true;
  });
  fit(classifier, images, sparse_categorical_cross_entropy{}, adam{}, image_options);
  REQUIRE(count_after.size() == 4);
  CHECK(count_after.back() == count_after.front());
}

TEST_CASE("fit refuses an augmentation for another element type") {
  model<sequential<input<2, 2, 1>, flatten, dense<1>>, 2, double> m(1);
  const dataset<double> data(std::vector<double>(8, 1.0), std::vector<double>{1, 2}, 4, 1);
  fit_options options;
  options.progress = progress::silent;
  options.augment = augmentation<float, shape<2, 2, 1>, horizontal_flip<>>(1);
  CHECK_THROWS_WITH_AS(fit(m, data, mse{}, sgd{}, options),
                       "fit: options.augment does not take batches of double, the model's element type",
                       tenfold::exception);
}

TEST_CASE("a batch_transform made with std::ref uses the object itself") {
  // Copied into the options, an augmentation's generator advances there; through std::ref, the caller's
  // own object draws, so a second pipeline with the same seed, applied by hand, gives the same batch.
  augmentation<float, shape<3, 3, 1>, random_crop<1>, gaussian_noise<std::ratio<1, 10>>> own(11), twin(11);
  const batch_transform through_ref = std::ref(own);
  std::vector<float> a(18, 1.0f), b(18, 1.0f);
  through_ref(a.data(), 2, 9);
  twin(b.data(), 2);
  CHECK(a == b);
  CHECK(own.generator().next() == twin.generator().next());
  CHECK(through_ref.accepts<float>());
  CHECK(!through_ref.accepts<double>());
  CHECK_THROWS_WITH_AS(through_ref(static_cast<double*>(nullptr), 1, 9),
                       "batch_transform: it does not take batches of double", tenfold::exception);
}
