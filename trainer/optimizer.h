// AdamW over the policy's trainable parameters (LibTorch's torch::optim::AdamW: Loshchilov & Hutter 2019,
// "Decoupled Weight Decay Regularization", Algorithm 2; the same update as torch.optim.AdamW), with its
// state addressable by parameter name so checkpoints hold it in a plain safetensors file.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "trainer/communicator.h"

namespace seer::trainer {

class ShardedAdamW;

struct AdamWOptions {
  double lr = 1e-6;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0.0;
  /// Parameters whose name starts with a key get `lr x scale` (one AdamW param group per key, the rest in
  /// the first group); set_lr keeps the ratios. The longest matching key wins.
  std::map<std::string, double> lr_scale_by_prefix;
};

class AdamW {
 public:
  /// `params`: name -> live parameter (requires_grad). The names key the saved state.
  AdamW(std::map<std::string, at::Tensor> params, const AdamWOptions& options);
  ~AdamW();
  AdamW(const AdamW&) = delete;
  AdamW& operator=(const AdamW&) = delete;

  /// Sets the base learning rate; groups from lr_scale_by_prefix get lr x their scale.
  void set_lr(double lr);
  /// The base learning rate.
  double lr() const;
  /// One update from the parameters' current .grad (a parameter without a gradient is skipped). Not for a
  /// sharded optimizer (apply_gradients in grad_sync.h steps both kinds).
  void step();
  /// Shards the state and the gradient sum across `comm`'s ranks (trainer.shard_optimizer; ZeRO 1-2,
  /// trainer/sharded_optimizer.h). Call before load_state; every rank calls it.
  void shard_across(Communicator& comm);
  /// The sharded optimizer, or nullptr.
  ShardedAdamW* sharded() { return sharded_.get(); }
  /// Collective when sharded: gathers the state that state() then returns (before a checkpoint). No-op otherwise.
  void collect_state();
  void zero_grad();
  /// Optimizer steps taken (restored by load_state).
  int64_t steps() const;
  const std::map<std::string, at::Tensor>& params() const { return params_; }

  /// State as tensors: "exp_avg/NAME", "exp_avg_sq/NAME" (float32 or the parameter's dtype), "step/NAME"
  /// (int64 scalar) for every parameter that has state.
  std::map<std::string, at::Tensor> state() const;
  /// Restores state() output. Throws seer::Error naming the tensor when a name is unknown or a shape differs.
  void load_state(const std::map<std::string, at::Tensor>& state, int64_t steps);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<ShardedAdamW> sharded_;
  std::map<std::string, at::Tensor> gathered_;  ///< sharded: collect_state()'s result
  AdamWOptions options_;
  std::map<std::string, at::Tensor> params_;
  std::vector<double> group_scale_;  ///< per LibTorch param group
  double base_lr_ = 0;
  int64_t steps_ = 0;
};

}  // namespace seer::trainer
