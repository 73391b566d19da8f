#include "model/layers.h"

#include <limits>

#include "core/check.h"

namespace seer::model {

torch::Tensor activation(const std::string& name, const torch::Tensor& x) {
  if (name == "gelu") return torch::gelu(x);
  if (name == "gelu_pytorch_tanh") return torch::gelu(x, "tanh");
  if (name == "quick_gelu") return x * torch::sigmoid(1.702 * x);
  if (name == "silu") return torch::silu(x);
  SEER_FAIL("activation '{}' is not supported", name);
}

RmsNormImpl::RmsNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) {
  const auto in_dtype = x.scalar_type();
  // float32 like HF (LlamaRMSNorm upcasts); float64 stays float64 (gradient checks)
  auto h = in_dtype == torch::kDouble ? x : x.to(torch::kFloat32);
  h = h * torch::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps_);
  return weight * h.to(in_dtype);
}

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& allowed, double scale) {
  const int64_t heads = q.size(1), kv_heads = k.size(1);
  torch::Tensor kk = k, vv = v;
  if (heads != kv_heads) {
    const int64_t rep = heads / kv_heads;
    kk = k.repeat_interleave(rep, 1);
    vv = v.repeat_interleave(rep, 1);
  }
  auto scores = torch::matmul(q, kk.transpose(-1, -2)) * scale;  // (B, H, Tq, Tk)
  if (allowed.defined()) {
    scores = scores.masked_fill(allowed.logical_not().unsqueeze(1), std::numeric_limits<float>::lowest());
  }
  auto probs = torch::softmax(q.scalar_type() == torch::kDouble ? scores : scores.to(torch::kFloat32), -1).to(q.scalar_type());
  return torch::matmul(probs, vv);
}

}  // namespace seer::model
