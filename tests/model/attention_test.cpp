// attention() against attention_eager(): with LibTorch >= 2.1 attention() is scaled_dot_product_attention, and
// it must give the eager results (float32 rel < 1e-5, bfloat16 rel < 2e-2) and gradients, for grouped-query heads,
// a causal mask over left padding (whose query rows have no allowed key) and no mask. With LibTorch 1.13 the two
// are the same function and the test says it skipped.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/layers.h"

namespace seer::model {
namespace {

double rel(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).norm().item<double>() / b.to(torch::kDouble).norm().item<double>();
}

/// (B, T, T) causal mask over keys that are not left padding (row 1 has 3 padding positions).
torch::Tensor padded_causal(int64_t B, int64_t T) {
  auto valid = torch::ones({B, T}, torch::kBool);
  valid[1].narrow(0, 0, 3).fill_(false);
  auto causal = torch::ones({T, T}, torch::kBool).tril();
  return causal.unsqueeze(0) & valid.unsqueeze(1);
}

void compare(at::ScalarType dtype, double tolerance, bool masked) {
  torch::manual_seed(4);
  const int64_t B = 2, H = 4, Hkv = 2, T = 9, d = 16;
  auto q = torch::randn({B, H, T, d}).to(dtype).requires_grad_(true);
  auto k = torch::randn({B, Hkv, T, d}).to(dtype).requires_grad_(true);
  auto v = torch::randn({B, Hkv, T, d}).to(dtype).requires_grad_(true);
  const auto allowed = masked ? padded_causal(B, T) : torch::Tensor();
  const auto w = torch::randn({B, H, T, d}).to(dtype);
  // Only rows that have an allowed key are compared: padding rows are never read by the model.
  auto rows = masked ? allowed.any(-1).unsqueeze(1).unsqueeze(-1).to(dtype) : torch::ones({1}, dtype);
  auto run = [&](auto fn) {
    auto out = fn(q, k, v, allowed, 0.25);
    auto grads = torch::autograd::grad({(out * w * rows).sum()}, {q, k, v});
    return std::make_pair(out * rows, grads);
  };
  const auto [fused, fused_grads] = run(attention);
  const auto [eager, eager_grads] = run(attention_eager);
  EXPECT_LT(rel(fused, eager), tolerance) << c10::toString(dtype) << (masked ? " masked" : "");
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(torch::isfinite(fused_grads[i]).all().item<bool>()) << "q/k/v gradient " << i << " not finite";
    EXPECT_LT(rel(fused_grads[i], eager_grads[i]), tolerance) << "gradient " << i << " " << c10::toString(dtype);
  }
}

TEST(Attention, ScaledDotProductEqualsEager) {
  if (!attention_is_sdpa()) GTEST_SKIP() << "LibTorch < 2.1: attention() is attention_eager()";
  compare(torch::kFloat, 1e-5, true);
  compare(torch::kFloat, 1e-5, false);
  compare(torch::kBFloat16, 2e-2, true);
}

}  // namespace
}  // namespace seer::model
