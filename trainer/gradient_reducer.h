// All-reduce that overlaps backward (the design of PyTorch DDP's Reducer, torch/csrc/distributed/c10d/reducer.cpp):
// every trainable parameter's .grad is a view into a flat bucket of at most `bucket_bytes`, the buckets laid out
// in reverse parameter order (roughly the order backward completes them). During the backward pass of a step's
// last micro-batch a hook after each parameter's gradient accumulation counts it done; a bucket whose gradients are
// all done is all-reduced at once, in bucket order on every rank, while backward goes on with the earlier layers
// (on NCCL the collective runs on its side stream; MPI blocks the backward thread, so on a CPU this only
// reorders). finish() reduces the buckets backward never completed (unused parameters, a rank without data).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "trainer/communicator.h"
#include "trainer/grad_sync.h"

namespace seer::trainer {

class GradientReducer {
 public:
  /// `params`: leaf tensors that require grad, one dtype and device per bucket (a new bucket starts where either
  /// changes). Their gradients become zeroed views into the buckets (any previous gradient is dropped).
  GradientReducer(const std::vector<at::Tensor>& params, Communicator& comm, int64_t bucket_bytes);
  ~GradientReducer();  ///< removes the hooks
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  /// The next backward pass is the step's last: its completed buckets are reduced while it runs. Collective order:
  /// no other collective may run on `comm` between arm() and finish().
  void arm();
  /// Reduces every bucket not yet reduced, in order, and disarms. Afterwards each gradient holds the sum over
  /// ranks. Throws seer::Error when a gradient left its bucket (something replaced a .grad) or a parameter's
  /// gradient grew after its bucket was reduced. Collective.
  GradSyncStats finish();
  /// Zeroes the buckets (the gradients) for the next step; re-points any .grad that was replaced.
  void zero();
  int buckets() const { return static_cast<int>(buckets_.size()); }
  /// Buckets of the last step that were reduced while backward ran (before finish()).
  int overlapped_buckets() const { return overlapped_; }

 private:
  struct Bucket {
    at::Tensor flat;
    std::vector<size_t> members;  ///< indexes into params_
    int pending = 0;
    bool reduced = false;
  };
  void on_accumulated(size_t param);
  void launch_ready();
  void reduce(Bucket& b);

  Communicator& comm_;
  std::vector<at::Tensor> params_;
  std::vector<at::Tensor> views_;     ///< params_[i]'s slice of its bucket, shaped like it
  std::vector<size_t> bucket_of_;
  std::vector<bool> done_;
  std::vector<Bucket> buckets_;
  size_t next_ = 0;                    ///< the next bucket to reduce (strict order on every rank)
  bool armed_ = false;
  std::string late_;                   ///< a parameter whose gradient changed after its bucket went out
  std::vector<std::function<void()>> unhook_;
  GradSyncStats stats_;
  int overlapped_ = 0;
  bool finishing_ = false;
  double busy_seconds_ = 0;
};

}  // namespace seer::trainer
