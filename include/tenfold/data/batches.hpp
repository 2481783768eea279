// Splitting n samples into consecutive mini-batches: `for (auto [start, count] : batches(n, 32))`.
//
// The range is computed, not stored, so walking it allocates nothing. Every batch holds `batch_size`
// samples except the last, which holds the remainder (it is never empty, and it is not dropped: a training
// loop that wants full batches only can skip a batch whose count is short).
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <iterator>

#include "../core/error.hpp"

namespace tenfold {

// One batch: samples [start, start + count) of the (possibly shuffled) order.
struct batch_range {
  std::size_t start = 0;
  std::size_t count = 0;
  friend bool operator==(const batch_range&, const batch_range&) = default;
};

// How many batches `batches(total, batch_size)` yields: total / batch_size, rounded up.
constexpr std::size_t batch_count(std::size_t total, std::size_t batch_size) {
  return batch_size == 0 ? 0 : (total + batch_size - 1) / batch_size;
}

class batch_sequence {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = batch_range;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = batch_range;

    iterator() = default;
    iterator(std::size_t start, std::size_t total, std::size_t batch_size)
        : start_(start), total_(total), batch_size_(batch_size) {}
    batch_range operator*() const {
      const std::size_t left = total_ - start_;
      return {start_, left < batch_size_ ? left : batch_size_};
    }
    iterator& operator++() {
      const std::size_t left = total_ - start_;
      start_ += left < batch_size_ ? left : batch_size_;
      return *this;
    }
    iterator operator++(int) {
      iterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const iterator& a, const iterator& b) { return a.start_ == b.start_; }

   private:
    std::size_t start_ = 0, total_ = 0, batch_size_ = 1;
  };

  batch_sequence(std::size_t total, std::size_t batch_size) : total_(total), batch_size_(batch_size) {
    if (batch_size == 0)
      raise(error::make(errc::invalid_argument, "batches(%zu, 0): the batch size must be at least 1", total));
  }
  iterator begin() const { return {0, total_, batch_size_}; }
  iterator end() const { return {total_, total_, batch_size_}; }
  std::size_t size() const { return batch_count(total_, batch_size_); }
  bool empty() const { return total_ == 0; }

 private:
  std::size_t total_, batch_size_;
};

// The batches of `total` samples, `batch_size` at a time; the last one may be short.
inline batch_sequence batches(std::size_t total, std::size_t batch_size) { return {total, batch_size}; }

}  // namespace tenfold
