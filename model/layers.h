// Building blocks shared by the vision tower and the decoder. Internal to model/ (includes torch::nn).
// Legend: B batch, T tokens, H heads, Hkv key/value heads, d head dim, D hidden size.
#pragma once

#include <string>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include "model/linear.h"
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

namespace seer::model {

/// Activation by Hugging Face name: "gelu" (erf), "gelu_pytorch_tanh", "quick_gelu" (x·σ(1.702x)), "silu".
/// Throws seer::Error for other names. Mirrors transformers/activations.py.
torch::Tensor activation(const std::string& name, const torch::Tensor& x);

/// LlamaRMSNorm (modeling_llama.py): x / sqrt(mean(x², -1) + eps) in float32, times weight.
class RmsNormImpl : public torch::nn::Module {
 public:
  RmsNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);  ///< x (..., D) -> (..., D)
  torch::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(RmsNorm);

/// Softmax attention: q (B, H, Tq, d), k/v (B, Hkv, Tk, d) with H a multiple of Hkv (grouped-query:
/// query head h reads key/value head h / (H/Hkv), as transformers' repeat_kv), `allowed` (B, Tq, Tk) bool
/// or undefined (= all allowed), scale multiplies q·kᵀ. Returns (B, H, Tq, d). Fully masked rows give a
/// uniform average instead of NaN (they belong to padding and are never read).
/// With LibTorch >= 2.1 this is at::scaled_dot_product_attention (fused kernels: on CUDA the memory-efficient
/// one keeps O(T) instead of the (B, H, Tq, Tk) probabilities for backward); otherwise attention_eager.
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& allowed, double scale);
/// The same in plain ops (matmul, masked_fill, float32 softmax, matmul), as transformers' eager attention.
torch::Tensor attention_eager(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& allowed, double scale);
/// attention() over two key segments: first the keys of the row's shared prompt (prefix_k/v (U, Hkv, Tp, d), read by
/// `rows[u]` consecutive rows each), then the row's own keys k/v (B, Hkv, Tk, d); `allowed` (B, Tq, Tp + Tk) bool
/// covers both. One softmax over both, so the result is attention() over the concatenated keys
/// (model/kv_cache.h SharedKv), without copying the prompt per row. Differentiable in every tensor (the prompt's
/// gradient sums over its rows). Returns (B, H, Tq, d).
torch::Tensor attention_shared_prefix(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                      const torch::Tensor& allowed, const torch::Tensor& prefix_k,
                                      const torch::Tensor& prefix_v, const std::vector<int64_t>& rows, double scale);
/// Whether attention() runs scaled_dot_product_attention in this build.
bool attention_is_sdpa();

}  // namespace seer::model
