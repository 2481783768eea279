// shard_of: the ranks' rows of one global batch cover it exactly once, in order, as evenly as possible.
#include <doctest/doctest.h>

#include <cstddef>
#include <tenfold/tenfold.hpp>
#include <vector>

TEST_CASE("shard_of: every row of a global batch goes to exactly one rank, in rank order, evenly") {
  for (int ranks = 1; ranks <= 9; ++ranks)
    for (std::size_t rows = 0; rows <= 40; ++rows) {
      INFO(rows << " rows on " << ranks << " ranks");
      std::vector<int> owner(rows, -1);
      std::size_t next = 0, smallest = rows, largest = 0;
      for (int r = 0; r < ranks; ++r) {
        const auto s = tenfold::detail::shard_of(rows, ranks, r);
        CHECK(s.offset == next);  // contiguous and in rank order
        for (std::size_t i = s.offset; i < s.offset + s.rows; ++i) {
          REQUIRE(i < rows);
          CHECK(owner[i] == -1);
          owner[i] = r;
        }
        next = s.offset + s.rows;
        smallest = std::min(smallest, s.rows);
        largest = std::max(largest, s.rows);
      }
      CHECK(next == rows);
      CHECK(largest - smallest <= 1);
    }
}

// A communicator that sums over one rank: the exchange of a step scales each bucket by the rank's share and
// starts the buckets in one order, from the last parameters to the first, whatever order ready() reports.
struct recording_communicator {
  static constexpr bool distributed = true;
  static constexpr std::size_t max_pending = 64;
  std::vector<std::size_t> started;  // the offsets of the buckets, in the order their sums began
  const float* base = nullptr;
  int rank() const { return 0; }
  int ranks() const { return 1; }
  void start_sum(float* p, std::size_t) { started.push_back(static_cast<std::size_t>(p - base)); }
  void finish() {}
};

TEST_CASE("gradient_exchange: buckets start as soon as they are final, last first, scaled by the rank's share") {
  recording_communicator comm;
  std::vector<float> grads(10, 2.0f);
  comm.base = grads.data();
  tenfold::detail::gradient_exchange<float, recording_communicator> exchange(comm, 10, 4);  // [6,10) [2,6) [0,2)
  CHECK(exchange.buckets() == 3);
  exchange.begin(grads.data(), 0.25f);
  exchange.ready(0, 2);  // the first bucket is final, but the last ones start first
  CHECK(comm.started.empty());
  exchange.ready(6, 4);
  CHECK(comm.started == std::vector<std::size_t>{6});
  exchange.ready(2, 3);
  CHECK(comm.started.size() == 1);  // [2, 6) still misses one value
  exchange.ready(5, 1);
  CHECK(comm.started == std::vector<std::size_t>{6, 2, 0});
  exchange.finish();
  for (float g : grads) CHECK(g == 0.5f);
  // A rank without rows contributes zeros to every bucket, in the same order.
  comm.started.clear();
  exchange.begin(grads.data(), 0.0f);
  exchange.contribute_nothing();
  exchange.finish();
  CHECK(comm.started == std::vector<std::size_t>{6, 2, 0});
  for (float g : grads) CHECK(g == 0.0f);
}
