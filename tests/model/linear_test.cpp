// Matmul paths of the linear layer (compute.matmul x compute dtype): values and gradients against a float64
// reference, for every backend and dtype offered; and a whole `tiny` model's training forward/backward on
// oneDNN equal to BLAS within float32 rounding.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/check.h"
#include "model/linear.h"
#include "model/presets.h"
#include "model/vlm.h"

namespace seer::model {
namespace {

struct Restore {
  ~Restore() {
    set_matmul_backend(MatmulBackend::kBlas);
    set_compute_dtype(at::kFloat);
  }
};

double rel(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).norm().item<double>() / b.to(at::kDouble).norm().item<double>();
}

struct Case {
  MatmulBackend backend;
  at::ScalarType dtype;
  double tol;  ///< relative error allowed vs float64: float32 rounding, or bf16's 8-bit mantissa
};

class LinearPaths : public ::testing::TestWithParam<Case> {};

TEST_P(LinearPaths, ValuesAndGradientsMatchFloat64) {
  const Case c = GetParam();
  if (c.backend == MatmulBackend::kOneDnn && !at::hasMKLDNN()) GTEST_SKIP() << "LibTorch without oneDNN";
  Restore restore;
  torch::manual_seed(1);
  const auto x64 = torch::randn({3, 7, 96}, torch::kDouble), w64 = torch::randn({80, 96}, torch::kDouble) * 0.1,
             b64 = torch::randn({80}, torch::kDouble), dy = torch::randn({3, 7, 80}, torch::kDouble);
  // float64 reference
  auto xr = x64.clone().requires_grad_(true), wr = w64.clone().requires_grad_(true), br = b64.clone().requires_grad_(true);
  auto yr = at::linear(xr, wr, br);
  yr.backward(dy);
  // the path under test, on float32 inputs
  set_matmul_backend(c.backend);
  set_compute_dtype(c.dtype);
  auto x = x64.to(at::kFloat).requires_grad_(true), w = w64.to(at::kFloat).requires_grad_(true),
       b = b64.to(at::kFloat).requires_grad_(true);
  auto y = model::linear(x, w, b);
  EXPECT_EQ(y.scalar_type(), at::kFloat);
  EXPECT_EQ(y.sizes(), yr.sizes());
  y.backward(dy.to(at::kFloat));
  EXPECT_LT(rel(y, yr), c.tol);
  EXPECT_LT(rel(x.grad(), xr.grad()), c.tol);
  EXPECT_LT(rel(w.grad(), wr.grad()), c.tol);
  EXPECT_LT(rel(b.grad(), br.grad()), c.tol);
  EXPECT_EQ(w.grad().scalar_type(), at::kFloat);  // master weights keep float32 gradients
  // without bias
  auto y2 = model::linear(x.detach(), w.detach(), at::Tensor());
  EXPECT_LT(rel(y2, at::linear(x64, w64)), c.tol);
}

INSTANTIATE_TEST_SUITE_P(BackendsAndDtypes, LinearPaths,
                         ::testing::Values(Case{MatmulBackend::kBlas, at::kFloat, 1e-5},
                                           Case{MatmulBackend::kOneDnn, at::kFloat, 1e-5},
                                           Case{MatmulBackend::kBlas, at::kBFloat16, 2e-2},
                                           Case{MatmulBackend::kOneDnn, at::kBFloat16, 2e-2}),
                         [](const auto& info) {
                           return to_string(info.param.backend) + (info.param.dtype == at::kFloat ? "_fp32" : "_bf16");
                         });

TEST(LinearPaths, TinyModelOnOneDnnEqualsBlas) {
  if (!at::hasMKLDNN()) GTEST_SKIP() << "LibTorch without oneDNN";
  Restore restore;
  const VlmConfig cfg = preset_config("tiny");
  auto run = [&](MatmulBackend backend, std::vector<at::Tensor>* grads) {
    set_matmul_backend(backend);
    auto m = Vlm::create(cfg, 3);
    torch::manual_seed(5);
    auto ids = torch::randint(0, 256, {2, 40}, torch::kLong);
    ids.narrow(1, 1, cfg.image_feature_count()).fill_(cfg.image_token_index);
    auto mask = torch::ones({2, 40}, torch::kLong);
    auto target = torch::zeros({2, 40}, torch::kBool);
    target.narrow(1, 30, 10).fill_(true);
    auto lp = m->token_logprobs(ids, mask, m->image_features(torch::randn({2, 3, 32, 32})), target).logprobs;
    lp.sum().backward();
    for (const auto& p : m->trainable_parameters()) grads->push_back(p.grad().clone());
    return lp.detach();
  };
  std::vector<at::Tensor> g_blas, g_dnnl;
  const auto a = run(MatmulBackend::kBlas, &g_blas);
  const auto b = run(MatmulBackend::kOneDnn, &g_dnnl);
  EXPECT_LT(rel(b, a), 1e-5);
  ASSERT_EQ(g_blas.size(), g_dnnl.size());
  for (size_t i = 0; i < g_blas.size(); ++i) {
    if (g_blas[i].norm().item<double>() > 1e-6) {
      EXPECT_LT(rel(g_dnnl[i], g_blas[i]), 1e-4) << "parameter " << i;
    }
  }
}

TEST(LinearPaths, ParsesNamesAndMeasures) {
  Restore restore;
  EXPECT_EQ(parse_matmul_backend("blas"), MatmulBackend::kBlas);
  EXPECT_EQ(parse_compute_dtype("bfloat16"), at::kBFloat16);
  EXPECT_THROW(parse_matmul_backend("cublas"), Error);
  EXPECT_THROW(parse_compute_dtype("float16"), Error);
  const MatmulBackend chosen = measure_fastest_backend(128, 64);
  EXPECT_TRUE(chosen == MatmulBackend::kBlas || chosen == MatmulBackend::kOneDnn);
  EXPECT_EQ(matmul_backend(), MatmulBackend::kBlas);  // measuring leaves the setting alone
}

TEST(LinearPaths, FewRowSplitEqualsOneProduct) {
  set_matmul_backend(MatmulBackend::kBlas);
  set_split_few_rows(true);
  torch::manual_seed(3);
  const auto w = torch::randn({1408, 512}, torch::kDouble) * 0.05, b = torch::randn({1408}, torch::kDouble);
  for (int64_t rows : {1, 4, 8, 32, 33}) {
    const auto x = torch::randn({rows, 512}, torch::kDouble);
    const auto reference = at::linear(x, w, b);  // float64: the exact value within float32 rounding
    torch::NoGradGuard no_grad;
    const auto y = linear(x.to(torch::kFloat), w.to(torch::kFloat), b.to(torch::kFloat));
    ASSERT_EQ(y.sizes(), reference.sizes());
    EXPECT_TRUE(torch::allclose(y.to(torch::kDouble), reference, 1e-5, 1e-4)) << rows << " rows";
    const auto no_bias = linear(x.to(torch::kFloat).view({1, rows, 512}), w.to(torch::kFloat), at::Tensor());
    EXPECT_EQ(no_bias.sizes(), (std::vector<int64_t>{1, rows, 1408}));
    EXPECT_TRUE(torch::allclose(no_bias[0].to(torch::kDouble), at::linear(x, w), 1e-5, 1e-4)) << rows << " rows";
  }
  // With autograd the plain path runs (the split has no backward of its own) and gradients flow.
  auto x = torch::randn({4, 512}, torch::requires_grad());
  auto wf = w.to(torch::kFloat).requires_grad_(true);
  linear(x, wf, at::Tensor()).sum().backward();
  EXPECT_TRUE(wf.grad().defined() && x.grad().defined());
  set_split_few_rows(false);
  EXPECT_GT(measure_few_rows_split(), 0.0);
}

TEST(LinearPaths, StackedProductsUnderTheWeightCacheEqualSeparateOnes) {
  // Under a WeightCastCache without autograd the decoder's bf16 products run q/k/v and gate/up as one product each
  // over stacked weights (biases too: the tiny-qwen2vl decoder has q/k/v biases).
  Restore restore;
  for (const char* preset : {"tiny", "tiny-qwen2vl"}) {
    const VlmConfig cfg = preset_config(preset);
    auto m = Vlm::create(cfg, 3);
    torch::manual_seed(5);
    auto ids = torch::randint(0, 256, {2, 24}, torch::kLong);
    auto mask = torch::ones({2, 24}, torch::kLong);
    auto target = torch::zeros({2, 24}, torch::kBool);
    target.narrow(1, 12, 12).fill_(true);
    torch::NoGradGuard no_grad;
    for (at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
      set_compute_dtype(dtype);
      const auto separate = m->token_logprobs(ids, mask, {}, target).logprobs;
      WeightCastCache casts;
      const auto stacked = m->token_logprobs(ids, mask, {}, target).logprobs;
      EXPECT_GT(separate.abs().sum().item<double>(), 0.0);
      EXPECT_LT(rel(stacked, separate), dtype == at::kFloat ? 1e-6 : 1e-3) << preset;
      // bf16 products: per layer q/k/v weights, gate/up weights, and q/k/v biases where the decoder has them;
      // float32 products of float32 weights cast nothing, so nothing is stacked (no extra copy of the weights)
      const int64_t per_layer = dtype == at::kFloat ? 0 : cfg.text.attention_bias ? 3 : 2;
      EXPECT_EQ(static_cast<int64_t>(casts.stacks()), per_layer * cfg.text.num_hidden_layers) << preset;
    }
  }
}

TEST(LinearPaths, WeightCastCacheCastsOnceAndFollowsInPlaceUpdates) {
  Restore restore;
  set_compute_dtype(at::kBFloat16);
  torch::manual_seed(4);
  auto w = torch::randn({64, 32}, torch::requires_grad()), b = torch::randn({64}, torch::requires_grad());
  const auto x = torch::randn({5, 32});
  at::Tensor plain, cached, again, updated, fresh;
  {
    torch::NoGradGuard no_grad;
    plain = linear(x, w, b);
    WeightCastCache casts;
    cached = linear(x, w, b);
    EXPECT_TRUE(WeightCastCache::cast(w, at::kBFloat16).is_same(WeightCastCache::cast(w, at::kBFloat16)));
    again = linear(x, w, b);
    w.add_(1.0);  // an in-place update (an optimizer step, a weight sync) bumps the version: cast again
    updated = linear(x, w, b);
  }
  {
    torch::NoGradGuard no_grad;
    fresh = linear(x, w, b);
  }
  EXPECT_TRUE(torch::equal(cached, plain));
  EXPECT_TRUE(torch::equal(again, plain));
  EXPECT_TRUE(torch::equal(updated, fresh));
  EXPECT_FALSE(torch::equal(updated, plain));
  // With autograd on a trainable weight nothing is cached and the gradient reaches the float32 weight.
  WeightCastCache casts;
  EXPECT_FALSE(WeightCastCache::cast(w, at::kBFloat16).is_same(WeightCastCache::cast(w, at::kBFloat16)));
  linear(x, w, b).sum().backward();
  ASSERT_TRUE(w.grad().defined());
  EXPECT_EQ(w.grad().scalar_type(), at::kFloat);
  EXPECT_GT(w.grad().abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace seer::model
