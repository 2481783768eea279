// cuda::data_parallel<Model, Comm>: the data-parallel training step of a device_model, one process per GPU.
//
// The same step as a distributed fit() on the CPU (train/fit.hpp), through the same gradient_exchange
// (dist/communicator.hpp): each rank runs forward and backward on its rows of one global batch; as backward
// finishes each stage's gradients, the buckets they complete start their all-reduce, each rank's gradients first
// scaled by its share of the global batch's rows, so that the sum is the gradient of the global mean loss; the
// optimizer's update follows the last bucket. Every rank then holds the same parameters, as one process with the
// whole batch would. A rank with no rows in a short last batch contributes zeros and still takes part.
//
// The step runs the per-stage kernels (the fused kernels sum and apply the gradients in one launch, which leaves
// nothing to exchange in between). Nothing is allocated after construction, and the host does not wait for the
// GPU, except in last_loss().
#pragma once
#include <tenfold/core/internal.hpp>

#include <cstddef>

#include <tenfold/core/error.hpp>
#include <tenfold/dist/communicator.hpp>

namespace tenfold::cuda {

template <class Model, class Comm>
class data_parallel {
 public:
  using T = typename Model::value_type;

  // Every rank starts from rank 0's parameters and buffers (broadcast here; afterwards each rank's batch_norm
  // statistics follow its own rows, as in a distributed fit() on the CPU). The gradients travel in buckets of
  // `bucket_size` values (by default, as fit() cuts them).
  data_parallel(Model& model, Comm& comm,
                std::size_t bucket_size = ::tenfold::detail::exchange_bucket_size<Comm>(Model::param_count))
      : model_(model), comm_(comm), exchange_(comm, Model::param_count, bucket_size) {
    comm_.broadcast(model_.params(), Model::param_count);
    if constexpr (Model::buffer_count > 0) comm_.broadcast(model_.buffers(), Model::buffer_count);
  }

  // One step on this rank's `rows` of a global batch of `global_rows` (x and target in device memory; rows may be
  // 0 when the global batch is too short to reach this rank). With clip_norm > 0 the exchanged gradients, the
  // global batch's, are clipped to that global norm before the update (device_model::clip_gradient_norm), so
  // every rank scales by the same factor.
  template <class L, class Opt>
  void train_step(const T* x, const T* target, std::size_t rows, std::size_t global_rows, const L& loss,
                  const Opt& opt, typename Model::template optimizer_state_for<Opt>& state, double clip_norm = 0) {
    TENFOLD_EXPECT(global_rows >= 1 && rows <= global_rows, errc::invalid_argument,
                   "cuda::data_parallel::train_step: %zu rows of a global batch of %zu", rows, global_rows);
    exchange_.begin(model_.grads(), T(rows) / T(global_rows));
    if (rows > 0)
      model_.compute_gradients(x, target, rows, loss,
                               [&](std::size_t first, std::size_t count) { exchange_.ready(first, count); });
    else
      exchange_.contribute_nothing();
    exchange_.finish();
    if (clip_norm != 0) model_.clip_gradient_norm(clip_norm);
    model_.apply_update(opt, state);
    rows_ = rows;
    global_rows_ = global_rows;
  }

  // The mean loss of the last step over the whole global batch, the same on every rank. Waits for the GPU and for
  // every rank.
  double last_loss() {
    TENFOLD_EXPECT(global_rows_ > 0, errc::invalid_argument, "cuda::data_parallel::last_loss: no step has run yet");
    double total = rows_ > 0 ? double(model_.last_loss()) * double(rows_) : 0.0;
    comm_.sum(&total, 1);
    return total / double(global_rows_);
  }

  std::size_t buckets() const { return exchange_.buckets(); }
  // How many buckets of the last step started their all-reduce while backward was still being queued.
  std::size_t buckets_started_during_backward() const { return exchange_.started_before_finish(); }

 private:
  Model& model_;
  Comm& comm_;
  ::tenfold::detail::gradient_exchange<T, Comm> exchange_;
  std::size_t rows_ = 0, global_rows_ = 0;
};

}  // namespace tenfold::cuda
