#include "model/qwen2vl_merger.h"

#include "core/check.h"

namespace seer::model {

Qwen2PatchMergerImpl::Qwen2PatchMergerImpl(const Qwen2VisionConfig& c)
    : window_(c.embed_dim * c.spatial_merge_size * c.spatial_merge_size) {
  if (c.rms_norm) {
    rms_q = register_module("ln_q", RmsNorm(c.embed_dim, c.layer_norm_eps));
  } else {
    ln_q = register_module("ln_q", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.embed_dim}).eps(c.layer_norm_eps)));
  }
  auto mlp = register_module("mlp", std::make_shared<torch::nn::Module>());
  fc_in = mlp->register_module("0", Linear(window_, window_));
  fc_out = mlp->register_module("2", Linear(window_, c.out_dim));
}

torch::Tensor Qwen2PatchMergerImpl::forward(const torch::Tensor& x) {
  SEER_CHECK(x.numel() % window_ == 0, "patch merger: {} values are not whole merge windows of {}", x.numel(), window_);
  return fc_out(activation("gelu", fc_in((rms_q ? rms_q(x) : ln_q(x)).reshape({-1, window_}))));
}

}  // namespace seer::model
