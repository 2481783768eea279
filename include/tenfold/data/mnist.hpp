// load_mnist(dir): the MNIST training and test sets from the four IDX files in one folder.
//
// The folder may hold the files under their original names (train-images-idx3-ubyte, t10k-...), with the
// "test-" prefix some mirrors use, or with a dot before "idx" (train-images.idx3-ubyte); each raw or
// gzip-compressed. A raw file is preferred when both exist, since it needs no zlib. Fashion-MNIST and KMNIST
// use the same names and format, so they load the same way. Pixels become features scaled to [0, 1], and
// the class index (0..9) the single target.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>

#include "../core/error.hpp"
#include "dataset.hpp"
#include "idx.hpp"

namespace tenfold {

template <class T = float>
struct mnist_data {
  dataset<T> train;
  dataset<T> test;
};

namespace detail {

inline bool file_exists(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f) std::fclose(f);
  return f != nullptr;
}

// The first of prefix-{stem}-idxN-ubyte, prefix-{stem}.idxN-ubyte (then each with .gz) found under `dir`
// for any of `prefixes`; empty when none exists.
inline std::string find_mnist_file(const std::string& dir, std::initializer_list<const char*> prefixes,
                                   const char* stem, int rank) {
  const std::string folder = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  const std::string idx = "idx" + std::to_string(rank) + "-ubyte";
  for (const char* suffix : {"", ".gz"})
    for (const char* prefix : prefixes)
      for (const char* separator : {"-", "."}) {
        std::string candidate = folder + prefix + "-" + stem + separator + idx + suffix;
        if (file_exists(candidate)) return candidate;
      }
  return {};
}

template <class T>
result<dataset<T>> load_mnist_part(const std::string& dir, std::initializer_list<const char*> prefixes,
                                   const char* part) {
  const std::string images = find_mnist_file(dir, prefixes, "images", 3);
  if (images.empty())
    return error::make(errc::file_not_found,
                       "load_mnist: found no %s images in '%s' (looked for %s-images-idx3-ubyte, raw or .gz)", part,
                       dir.c_str(), *prefixes.begin());
  const std::string labels = find_mnist_file(dir, prefixes, "labels", 1);
  if (labels.empty())
    return error::make(errc::file_not_found,
                       "load_mnist: found no %s labels in '%s' (looked for %s-labels-idx1-ubyte, raw or .gz)", part,
                       dir.c_str(), *prefixes.begin());
  return try_load_idx_dataset<T>(images, labels, 10);
}

}  // namespace detail

template <class T = float>
result<mnist_data<T>> try_load_mnist(const std::string& dir) {
  auto train = detail::load_mnist_part<T>(dir, {"train"}, "training");
  if (!train) return train.error();
  auto test = detail::load_mnist_part<T>(dir, {"t10k", "test"}, "test");
  if (!test) return test.error();
  if (train->feature_size() != test->feature_size())
    return error::make(errc::bad_format,
                       "load_mnist: the training images in '%s' have %zu pixels but the test images %zu", dir.c_str(),
                       train->feature_size(), test->feature_size());
  return mnist_data<T>{std::move(*train), std::move(*test)};
}

template <class T = float>
mnist_data<T> load_mnist(const std::string& dir) {
  return try_load_mnist<T>(dir).value();
}

}  // namespace tenfold
