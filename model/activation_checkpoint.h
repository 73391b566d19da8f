// Activation checkpointing (gradient checkpointing): a block's activations are not kept for backward; backward
// runs the block again from its saved input. Memory per block drops from all its intermediates to its input
// (B, T, D); compute grows by one forward of the block. Semantics of torch.utils.checkpoint.checkpoint with
// use_reentrant=True (torch/utils/checkpoint.py): forward without autograd, backward re-runs the block with
// autograd on, back-propagates through that re-run (parameter gradients accumulate as usual) and returns the
// input's gradient. Internal to model/.
#pragma once

#include <functional>

#include <torch/types.h>

namespace seer::model {

/// Returns block(x) whose backward recomputes block from x. Only x receives a gradient: other tensors the block
/// closes over (rotary tables, masks) must not need one. The block must be deterministic (seer's decoder layers
/// have no dropout), or the recomputation would differ from the forward. With autograd off this is block(x).
torch::Tensor checkpointed(const std::function<torch::Tensor(const torch::Tensor&)>& block, const torch::Tensor& x);

}  // namespace seer::model
