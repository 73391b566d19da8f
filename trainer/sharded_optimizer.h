// AdamW with its state and the gradient sum sharded across data-parallel ranks (ZeRO stages 1-2:
// Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward Training Trillion Parameter Models", section
// 5.1-5.2). The trainable parameters are laid out in one flat vector (name order) padded to a multiple of the
// world size; rank r owns elements [r·n, (r+1)·n). A step reduce-scatters the gradients (each rank receives
// the sum of its shard only), clips by the global norm, applies AdamW to its shard (the update of
// torch.optim.AdamW / AdamW in optimizer.h, element by element), and all-gathers the updated parameters.
// Each rank holds 1/world of the exp_avg and exp_avg_sq state. state() gathers the state under AdamW's
// names, so checkpoints are the same whether sharded or not, and resume at any world size.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <ATen/core/Tensor.h>

#include "trainer/communicator.h"
#include "trainer/optimizer.h"

namespace seer::trainer {

class ShardedAdamW {
 public:
  /// `params`: name -> live parameter (requires_grad), one floating dtype for all, the same on every rank.
  /// Throws seer::Error for mixed dtypes or no parameters.
  ShardedAdamW(std::map<std::string, at::Tensor> params, const AdamWOptions& options, Communicator& comm);

  void set_lr(double lr) { lr_ = lr; }
  double lr() const { return lr_; }
  /// Collective. Sums the gradients across ranks into each rank's shard (an undefined gradient counts as
  /// zeros), scales them so the global L2 norm is at most `max_norm` (<= 0: no clipping), updates the shard and
  /// all-gathers the parameters. Returns the global norm before clipping.
  double step(double max_norm);
  void zero_grad();
  int64_t steps() const { return steps_; }
  /// Elements this rank's shard holds (state memory is 2 x this per rank).
  int64_t shard_elements() const { return shard_; }
  /// Elements of all trainable parameters together (before padding to a multiple of the world size).
  int64_t total_elements() const { return total_; }

  /// Collective: the whole state as AdamW::state() names it ("exp_avg/NAME", "exp_avg_sq/NAME", "step/NAME").
  std::map<std::string, at::Tensor> state();
  /// Restores AdamW::state()-shaped tensors (from any world size, sharded or not). Throws seer::Error naming
  /// a missing tensor or a shape that differs.
  void load_state(const std::map<std::string, at::Tensor>& state, int64_t steps);

 private:
  /// This rank's shard of the flat vector of `per_param` (one tensor per parameter, parameter shapes).
  at::Tensor shard_of(const std::map<std::string, at::Tensor>& by_name) const;
  /// The flat vector (all ranks' shards gathered), unpadded.
  at::Tensor gather(const at::Tensor& shard);

  std::map<std::string, at::Tensor> params_;
  Communicator& comm_;
  AdamWOptions options_;
  double lr_ = 0;
  int64_t total_ = 0, shard_ = 0, steps_ = 0;
  at::Tensor lr_scale_;            ///< (shard_) per-element LR scale (lr_scale_by_prefix)
  at::Tensor exp_avg_, exp_avg_sq_;  ///< (shard_) AdamW moments of this rank's elements
};

}  // namespace seer::trainer
