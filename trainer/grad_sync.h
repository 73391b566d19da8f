// Gradient synchronisation for data parallelism: gradients flattened into fixed-size buckets, each
// all-reduced (SUM: the loss is already normalised by global counts, rewards.md section 6), then clipped
// by global norm. Every rank runs the same collectives: a parameter without a gradient contributes zeros.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "trainer/communicator.h"
#include "trainer/optimizer.h"

namespace seer::trainer {
class GradientReducer;
}

namespace seer::trainer {

struct GradSyncStats {
  int64_t bytes = 0;        ///< gradient bytes reduced per rank
  int buckets = 0;
  double seconds = 0;       ///< wall time of the collectives
  int world_size = 1;
  /// nccl-tests bus bandwidth: algbw · 2(n−1)/n, bytes/s (0 for a world of one).
  double bus_bandwidth() const;
};

/// All-reduces (sums) the gradients of `params` in buckets of at most `bucket_bytes`; undefined gradients
/// become zeros first (so every rank runs the same collectives). Gradients must share one dtype per bucket.
GradSyncStats all_reduce_gradients(const std::vector<at::Tensor>& params, Communicator& comm, int64_t bucket_bytes);

/// Scales gradients so their global L2 norm is at most `max_norm` (no-op when max_norm <= 0); returns the
/// norm before clipping. Call after all_reduce_gradients: every rank then computes the same norm.
double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm);

struct GradientStepStats {
  double grad_norm = 0;  ///< global L2 norm before clipping
  GradSyncStats sync;    ///< the collectives (sharded: the whole step's wall time)
};

/// The update after backward on every rank: gradients summed across ranks, clipped to `max_norm` by global
/// norm, one AdamW step, gradients zeroed. Replicated AdamW: bucketed all-reduce, clip, step; sharded
/// (AdamW::shard_across): reduce-scatter, clip, shard update, all-gather (ShardedAdamW::step). Collective.
/// With `reducer` (replicated AdamW only) the buckets were all-reduced during backward: finish() reduces the rest,
/// and the reducer's buckets are zeroed instead of the gradients.
GradientStepStats apply_gradients(AdamW& optimizer, Communicator& comm, double max_norm, int64_t bucket_bytes,
                                  GradientReducer* reducer = nullptr);

}  // namespace seer::trainer
