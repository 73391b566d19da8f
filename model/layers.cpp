#include "model/layers.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include <torch/version.h>

#include "core/check.h"
#include "model/linear.h"

// scaled_dot_product_attention with a `scale` argument: LibTorch 2.1 and later.
#if defined(TORCH_VERSION_MAJOR) && (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1))
#define SEER_HAVE_SDPA 1
#else
#define SEER_HAVE_SDPA 0
#endif

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

#if SEER_HAVE_SDPA
namespace {

/// k, v with each key/value head repeated for its H/Hkv query heads (transformers' repeat_kv).
std::pair<torch::Tensor, torch::Tensor> expand_kv(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  const int64_t heads = q.size(1), kv_heads = k.size(1);
  if (heads == kv_heads) return {k, v};
  const int64_t rep = heads / kv_heads;
  return {k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)};
}

}  // namespace
#endif

bool attention_is_sdpa() { return SEER_HAVE_SDPA != 0; }

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& allowed, double scale) {
#if SEER_HAVE_SDPA
  const auto [kk, vv] = expand_kv(q, k, v);
  std::optional<torch::Tensor> mask;  // an undefined Tensor is not "no mask" to SDPA: nullopt is
  if (allowed.defined()) {
    // A row with no allowed key (a padding query) would be NaN in the fused kernels, and NaN gradients poison
    // the parameters even though the row is never read: let such rows attend everywhere (a uniform average),
    // which is what the eager path's lowest-value fill gives them.
    mask = (allowed | allowed.any(-1, /*keepdim=*/true).logical_not()).unsqueeze(1);  // (B, 1, Tq, Tk)
  }
  if (q.is_cuda() && q.scalar_type() == at::kFloat && compute_dtype() == at::kBFloat16) {
    // Autocast on the GPU: the attention products in bf16 too (fused kernels accumulate in float32).
    const auto bf = at::kBFloat16;
    return at::scaled_dot_product_attention(q.to(bf), kk.to(bf), vv.to(bf), mask, 0.0, false, scale).to(at::kFloat);
  }
  return at::scaled_dot_product_attention(q, kk, vv, mask, 0.0, false, scale);
#else
  return attention_eager(q, k, v, allowed, scale);
#endif
}

torch::Tensor attention_eager(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& allowed, double scale) {
  // Grouped-query attention without copying K/V per query head: the rep = H / Hkv query heads that read one
  // key/value head are stacked as rows of one product, q (B, Hkv, rep·Tq, d) · kᵀ (same dot products as
  // transformers' repeat_kv, whose copy of the whole cache per layer dominated a decode step).
  const int64_t B = q.size(0), H = q.size(1), Tq = q.size(2), d = q.size(3), Hkv = k.size(1), Tk = k.size(2);
  SEER_CHECK(H % Hkv == 0, "attention: {} query heads are not a multiple of {} key/value heads", H, Hkv);
  const int64_t rep = H / Hkv;
  auto scores = torch::matmul(q.reshape({B, Hkv, rep * Tq, d}), k.transpose(-1, -2)) * scale;  // (B, Hkv, rep·Tq, Tk)
  // Masked and normalised in float32 (float64 stays): the fill value would overflow bf16.
  if (q.scalar_type() != torch::kDouble) scores = scores.to(torch::kFloat32);
  scores = scores.view({B, Hkv, rep, Tq, Tk});
  if (allowed.defined()) {
    scores = scores.masked_fill(allowed.logical_not().unsqueeze(1).unsqueeze(1), std::numeric_limits<float>::lowest());
  }
  auto probs = torch::softmax(scores, -1).to(q.scalar_type()).view({B, Hkv, rep * Tq, Tk});
  return torch::matmul(probs, v).view({B, H, Tq, d});
}

namespace {

/// Each prompt's rows times that prompt's matrix, as one product per prompt over all its rows:
/// a (B, Hkv, Q, X) with rows[u] consecutive rows per prompt, m (U, Hkv, X, Y) -> (B, Hkv, Q, Y); one batched
/// product when every prompt has the same number of rows (a rollout's G samples each).
torch::Tensor per_prompt_product(const torch::Tensor& a, const torch::Tensor& m, const std::vector<int64_t>& rows) {
  const int64_t B = a.size(0), Hkv = a.size(1), Q = a.size(2), X = a.size(3), U = m.size(0), Y = m.size(3);
  if (std::all_of(rows.begin(), rows.end(), [&](int64_t n) { return n == rows[0]; })) {
    const int64_t n = rows[0];
    auto au = a.reshape({U, n, Hkv, Q, X}).permute({0, 2, 1, 3, 4}).reshape({U, Hkv, n * Q, X});
    return torch::matmul(au, m).view({U, Hkv, n, Q, Y}).permute({0, 2, 1, 3, 4}).reshape({B, Hkv, Q, Y});
  }
  std::vector<torch::Tensor> parts;
  int64_t start = 0;
  for (int64_t u = 0; u < U; ++u) {
    const int64_t n = rows[static_cast<size_t>(u)];
    auto au = a.narrow(0, start, n).permute({1, 0, 2, 3}).reshape({Hkv, n * Q, X});
    parts.push_back(torch::matmul(au, m[u]).view({Hkv, n, Q, Y}).permute({1, 0, 2, 3}));
    start += n;
  }
  return torch::cat(parts, 0);
}

}  // namespace

torch::Tensor attention_shared_prefix(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                      const torch::Tensor& allowed, const torch::Tensor& prefix_k,
                                      const torch::Tensor& prefix_v, const std::vector<int64_t>& rows, double scale) {
  const int64_t B = q.size(0), H = q.size(1), Tq = q.size(2), d = q.size(3), Hkv = k.size(1), Tk = k.size(2);
  const int64_t U = prefix_k.size(0), Tp = prefix_k.size(2);
  SEER_CHECK(H % Hkv == 0 && prefix_k.size(1) == Hkv, "attention: {} query heads, {} and {} key/value heads", H, Hkv,
             prefix_k.size(1));
  SEER_CHECK(static_cast<int64_t>(rows.size()) == U, "attention: {} shared prompts but {} row counts", U, rows.size());
  int64_t sum = 0;
  for (int64_t n : rows) sum += n;
  SEER_CHECK(sum == B, "attention: the shared prompts' row counts add up to {}, the batch has {} rows", sum, B);
  SEER_CHECK(allowed.size(-1) == Tp + Tk, "attention: the mask covers {} keys, the prompt and own keys are {} + {}",
             allowed.size(-1), Tp, Tk);
  const int64_t rep = H / Hkv, Q = rep * Tq;  // query rows per key/value head and batch row
  const auto qg = q.reshape({B, Hkv, Q, d});
  auto scores = torch::cat({per_prompt_product(qg, prefix_k.transpose(-1, -2), rows),  // (B, Hkv, Q, Tp)
                            torch::matmul(qg, k.transpose(-1, -2))}, -1) * scale;      // (B, Hkv, Q, Tp + Tk)
  if (q.scalar_type() != torch::kDouble) scores = scores.to(torch::kFloat32);
  scores = scores.view({B, Hkv, rep, Tq, Tp + Tk}).masked_fill(allowed.logical_not().unsqueeze(1).unsqueeze(1),
                                                              std::numeric_limits<float>::lowest());
  auto probs = torch::softmax(scores, -1).to(q.scalar_type()).view({B, Hkv, Q, Tp + Tk});
  auto out = per_prompt_product(probs.narrow(-1, 0, Tp), prefix_v, rows) + torch::matmul(probs.narrow(-1, Tp, Tk), v);
  return out.reshape({B, H, Tq, d});
}

}  // namespace seer::model
