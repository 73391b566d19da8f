// Shared prompts (Vlm::token_logprobs with SharedPrompts, attention_shared_prefix): each prompt computed once and
// read by its rows gives the log-probs, entropies and parameter gradients of the plain padded batch (float32,
// rel < 1e-5), on the tiny LLaVA and tiny Qwen2-VL (M-RoPE) presets, with prompts of different lengths, one with
// an image, completions of different lengths and right padding; and the two-segment attention equals attention
// over the concatenated keys, values and gradients, with grouped-query heads.
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/check.h"
#include "model/layers.h"
#include "model/presets.h"
#include "model/vlm.h"

namespace seer::model {
namespace {

double rel(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-30);
}

/// Prompts read by `rows` rows each (an uneven split takes one product per prompt, an even one a batched product).
void expect_attention_over_concatenated_keys(const std::vector<int64_t>& rows) {
  torch::manual_seed(5);
  const int64_t H = 4, Hkv = 2, d = 8, Tp = 5, Tk = 3, Tq = 3;
  const int64_t U = 3, B = 6;
  auto q = torch::randn({B, H, Tq, d}, torch::requires_grad());
  auto k = torch::randn({B, Hkv, Tk, d}, torch::requires_grad()), v = torch::randn({B, Hkv, Tk, d}, torch::requires_grad());
  auto pk = torch::randn({U, Hkv, Tp, d}, torch::requires_grad()), pv = torch::randn({U, Hkv, Tp, d}, torch::requires_grad());
  auto pvalid = torch::ones({U, Tp}, torch::kBool);
  pvalid[0][4] = false;  // right padding
  pvalid[2][0] = false;  // left padding
  auto allowed = torch::ones({Tq, Tk}, torch::kBool).tril().unsqueeze(0).repeat({B, 1, 1});
  allowed[5][2][2] = false;  // a padded own key
  auto w = torch::randn({B, H, Tq, d});
  // The mask over both segments: each row's prompt padding, then its own causal keys.
  auto counts = torch::tensor(rows, torch::kLong);
  auto ok = torch::cat({pvalid.repeat_interleave(counts, 0).unsqueeze(1).expand({B, Tq, Tp}), allowed}, 2);
  auto shared = attention_shared_prefix(q, k, v, ok, pk, pv, rows, 0.3);
  (shared * w).sum().backward();
  std::vector<torch::Tensor> g_shared = {q.grad().clone(), k.grad().clone(), v.grad().clone(), pk.grad().clone(),
                                         pv.grad().clone()};
  for (auto* t : {&q, &k, &v, &pk, &pv}) t->mutable_grad().zero_();
  // Reference: each row's prompt copied in front of its own keys.
  auto kk = torch::cat({pk.repeat_interleave(counts, 0), k}, 2), vv = torch::cat({pv.repeat_interleave(counts, 0), v}, 2);
  auto plain = attention_eager(q, kk, vv, ok, 0.3);
  (plain * w).sum().backward();
  EXPECT_LT(rel(shared.detach(), plain.detach()), 1e-6);
  const std::vector<torch::Tensor> g_plain = {q.grad(), k.grad(), v.grad(), pk.grad(), pv.grad()};
  for (size_t i = 0; i < g_plain.size(); ++i) {
    EXPECT_GT(g_plain[i].abs().sum().item<double>(), 0.0) << i;
    EXPECT_LT(rel(g_shared[i], g_plain[i]), 1e-5) << i;
  }
  EXPECT_THROW(attention_shared_prefix(q, k, v, ok, pk, pv, {2, 1, 2}, 0.3), Error);
  EXPECT_THROW(attention_shared_prefix(q, k, v, allowed, pk, pv, rows, 0.3), Error);  // a mask without the prompt
}

TEST(SharedPromptAttention, EqualsAttentionOverConcatenatedKeys) {
  expect_attention_over_concatenated_keys({2, 1, 3});
  expect_attention_over_concatenated_keys({2, 2, 2});
}

struct Batch {
  torch::Tensor image, ids, attention, target, positions;
  std::vector<int64_t> image_rows;  // rows whose prompt holds the image
  SharedPrompts shared;
};

/// Two prompts: A (2 text tokens, the image, 6 text tokens) read by 3 rows, B (4 text tokens) read by 2 rows;
/// completions of 5, 3, 4, 2 and 6 tokens (the targets), right-padded.
Batch make_batch(Vlm& m, const VlmConfig& c) {
  torch::manual_seed(3);
  Batch b;
  b.image = c.dynamic_resolution() ? torch::randn({1, 1, 4, 6, c.qwen_vision.patch_dim()}) : torch::randn({1, 3, 32, 32});
  const int64_t F = m.image_tokens(b.image[0]);
  std::vector<int64_t> a = {40, 41};
  if (c.dynamic_resolution()) a.push_back(c.vision_start_token_id);
  for (int64_t i = 0; i < F; ++i) a.push_back(c.image_token_index);
  if (c.dynamic_resolution()) a.push_back(c.vision_end_token_id);
  for (int64_t t = 0; t < 6; ++t) a.push_back(50 + 7 * t % 90);
  const std::vector<int64_t> p_b = {33, 35, 37, 39};
  const std::vector<int64_t> completion = {5, 3, 4, 2, 6};
  std::vector<std::vector<int64_t>> rows;
  for (size_t r = 0; r < completion.size(); ++r) {
    std::vector<int64_t> row = r < 3 ? a : p_b;
    for (int64_t t = 0; t < completion[r]; ++t) row.push_back(60 + (13 * t + 17 * static_cast<int64_t>(r)) % 120);
    rows.push_back(row);
  }
  size_t T = 0;
  for (const auto& r : rows) T = std::max(T, r.size());
  const auto B = static_cast<int64_t>(rows.size());
  b.ids = torch::full({B, static_cast<int64_t>(T)}, 7, torch::kLong);
  b.attention = torch::zeros({B, static_cast<int64_t>(T)}, torch::kLong);
  b.target = torch::zeros({B, static_cast<int64_t>(T)}, torch::kBool);
  for (int64_t r = 0; r < B; ++r) {
    const auto& row = rows[static_cast<size_t>(r)];
    const auto n = static_cast<int64_t>(row.size());
    b.ids[r].narrow(0, 0, n).copy_(torch::tensor(row, torch::kLong));
    b.attention[r].narrow(0, 0, n).fill_(1);
    b.target[r].narrow(0, n - completion[static_cast<size_t>(r)], completion[static_cast<size_t>(r)]).fill_(true);
  }
  b.image_rows = {0, 1, 2};
  b.positions = m.positions(b.ids, b.attention.to(torch::kBool), {b.image, b.image, b.image});
  b.shared.rows = {3, 2};
  b.shared.length = {static_cast<int64_t>(a.size()), static_cast<int64_t>(p_b.size())};
  return b;
}

struct Result {
  torch::Tensor logprobs, entropy;
  std::map<std::string, torch::Tensor> grads;
};

Result run(Vlm& m, const Batch& b, bool shared) {
  for (auto& [name, p] : m.named_parameters()) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
  // Features under autograd, so the projector takes gradients too; the plain batch gives every row its copy.
  torch::Tensor f = m.image_features(b.image);
  torch::Tensor features = shared ? f : torch::cat({f, f, f}, 0);
  auto lp = m.token_logprobs(b.ids, b.attention, features, b.target, 0.7, true, b.positions,
                             shared ? &b.shared : nullptr);
  torch::Tensor w = torch::linspace(-1.0, 1.0, b.target.numel()).view(b.target.sizes());
  torch::Tensor loss = (w * lp.logprobs).sum() + 0.3 * (w.flip(1) * lp.entropy).sum();
  loss.backward();
  Result r;
  r.logprobs = lp.logprobs.detach();
  r.entropy = lp.entropy.detach();
  for (auto& [name, p] : m.named_parameters()) {
    if (p.grad().defined()) r.grads[name] = p.grad().clone();
  }
  return r;
}

void expect_same(const std::string& preset) {
  const VlmConfig c = preset_config(preset);
  auto m = Vlm::create(c, 9, LoadOptions{});
  m->set_train(true);
  const Batch b = make_batch(*m, c);
  const Result plain = run(*m, b, false);
  const Result shared = run(*m, b, true);
  EXPECT_EQ((plain.logprobs != 0).sum().item<int64_t>(), b.target.sum().item<int64_t>());
  EXPECT_TRUE(((shared.logprobs != 0) == b.target).all().item<bool>());
  EXPECT_LT(rel(shared.logprobs, plain.logprobs), 1e-5) << preset;
  EXPECT_LT(rel(shared.entropy, plain.entropy), 1e-5) << preset;
  ASSERT_EQ(shared.grads.size(), plain.grads.size());
  ASSERT_GT(plain.grads.size(), 4u);
  for (const auto& [name, g] : plain.grads) {
    ASSERT_TRUE(shared.grads.count(name)) << name;
    EXPECT_LT(rel(shared.grads.at(name), g), 1e-5) << preset << " " << name;
  }
  // Without autograd (old-log-prob and reference passes).
  torch::NoGradGuard no_grad;
  auto lp = m->token_logprobs(b.ids, b.attention, m->image_features(b.image), b.target, 0.7, false, b.positions,
                              &b.shared);
  EXPECT_LT(rel(lp.logprobs, plain.logprobs), 1e-5);
  // A target inside a shared prompt is an error.
  SharedPrompts too_long = b.shared;
  too_long.length[1] += 1;
  EXPECT_THROW(m->token_logprobs(b.ids, b.attention, m->image_features(b.image), b.target, 0.7, false, b.positions,
                                 &too_long),
               Error);
}

TEST(SharedPrompts, SameLogprobsAndGradientsAsThePaddedBatchOnTinyLlava) { expect_same("tiny"); }
TEST(SharedPrompts, SameLogprobsAndGradientsAsThePaddedBatchOnTinyQwen2vl) { expect_same("tiny-qwen2vl"); }

}  // namespace
}  // namespace seer::model
