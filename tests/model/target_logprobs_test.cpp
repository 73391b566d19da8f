// Chunked token log-probs (Vlm::set_logprob_chunk_bytes): the same log-probs, entropies and parameter gradients
// as one pass over all rows (float32: rel < 1e-6 for values, < 1e-5 for gradients), on the tiny LLaVA and tiny
// Qwen2-VL presets with a padded batch and an image; the chunked graph holds one recompute node per chunk; and
// without autograd the chunks give the same values.
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/presets.h"
#include "model/target_logprobs.h"
#include "model/vlm.h"

#include "autograd_nodes.h"

namespace seer::model {
namespace {

double rel(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-30);
}

struct Batch {
  torch::Tensor image, ids, attention, target, positions;
};

/// Three rows: one with the image, one text-only, one text-only and left-padded; the last 9 tokens of each are
/// targets (27 rows through the head).
Batch make_batch(Vlm& m, const VlmConfig& c) {
  torch::manual_seed(3);
  Batch b;
  b.image = c.dynamic_resolution() ? torch::randn({1, 1, 4, 6, c.qwen_vision.patch_dim()}) : torch::randn({1, 3, 32, 32});
  const int64_t F = m.image_tokens(b.image[0]);
  std::vector<int64_t> row = {40, 41};
  if (c.dynamic_resolution()) row.push_back(c.vision_start_token_id);
  for (int64_t i = 0; i < F; ++i) row.push_back(c.image_token_index);
  if (c.dynamic_resolution()) row.push_back(c.vision_end_token_id);
  for (int64_t t = 0; t < 12; ++t) row.push_back(50 + 7 * t % 90);
  const int64_t T = static_cast<int64_t>(row.size());
  std::vector<int64_t> second(static_cast<size_t>(T)), third(static_cast<size_t>(T), 0);
  for (int64_t t = 0; t < T; ++t) second[static_cast<size_t>(t)] = 30 + 11 * t % 150;
  for (int64_t t = 5; t < T; ++t) third[static_cast<size_t>(t)] = 60 + 13 * t % 120;
  b.ids = torch::stack({torch::tensor(row, torch::kLong), torch::tensor(second, torch::kLong),
                        torch::tensor(third, torch::kLong)});
  b.attention = torch::ones({3, T}, torch::kLong);
  b.attention[2].narrow(0, 0, 5).zero_();
  b.target = torch::zeros({3, T}, torch::kBool);
  b.target.narrow(1, T - 9, 9).fill_(true);
  b.positions = m.positions(b.ids, b.attention.to(torch::kBool), {b.image});
  return b;
}

struct Result {
  torch::Tensor logprobs, entropy;
  std::map<std::string, torch::Tensor> grads;
  int64_t recompute_nodes = 0;
};

Result run(Vlm& m, const Batch& b, int64_t chunk_bytes) {
  m.set_logprob_chunk_bytes(chunk_bytes);
  for (auto& [name, p] : m.named_parameters()) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
  // Features under autograd, so the projector takes gradients too.
  auto lp = m.token_logprobs(b.ids, b.attention, m.image_features(b.image), b.target, 0.7, true, b.positions);
  // A loss that weighs every target's log-prob and entropy differently (as advantages and a bonus would).
  torch::Tensor w = torch::linspace(-1.0, 1.0, b.target.numel()).view(b.target.sizes());
  torch::Tensor loss = (w * lp.logprobs).sum() + 0.3 * (w.flip(1) * lp.entropy).sum();
  Result r;
  r.recompute_nodes = count_nodes(loss.grad_fn().get(), "Recompute");
  loss.backward();
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
  const int64_t vocab = c.text.vocab_size;
  const Result plain = run(*m, b, 0);
  const Result chunked = run(*m, b, vocab * 4 * 4);  // 4 rows per chunk: 27 rows -> 7 chunks
  EXPECT_EQ(plain.recompute_nodes, 0);
  EXPECT_EQ(chunked.recompute_nodes, 7);
  EXPECT_LT(rel(chunked.logprobs, plain.logprobs), 1e-6);
  EXPECT_LT(rel(chunked.entropy, plain.entropy), 1e-6);
  EXPECT_GT(plain.logprobs.abs().sum().item<double>(), 0.0);
  ASSERT_EQ(chunked.grads.size(), plain.grads.size());
  ASSERT_GT(plain.grads.size(), 4u);
  for (const auto& [name, g] : plain.grads) {
    ASSERT_TRUE(chunked.grads.count(name)) << name;
    EXPECT_LT(rel(chunked.grads.at(name), g), 1e-5) << preset << " " << name;
  }
  // Without autograd (old-log-prob and reference passes) the chunks run as plain forwards.
  torch::NoGradGuard no_grad;
  m->set_logprob_chunk_bytes(vocab * 4 * 5);
  auto lp = m->token_logprobs(b.ids, b.attention, m->image_features(b.image), b.target, 0.7, true, b.positions);
  EXPECT_LT(rel(lp.logprobs, plain.logprobs), 1e-6);
  EXPECT_LT(rel(lp.entropy, plain.entropy), 1e-6);
}

TEST(TargetLogprobs, ChunkedEqualsOnePassOnTinyLlava) { expect_same("tiny"); }
TEST(TargetLogprobs, ChunkedEqualsOnePassOnTinyQwen2vl) { expect_same("tiny-qwen2vl"); }

TEST(TargetLogprobs, AHeadWithoutTrainableInputStillGetsItsGradient) {
  // Hidden rows that need no gradient (a frozen decoder) must not cut the head's weight off its gradient.
  torch::manual_seed(4);
  torch::Tensor W = torch::randn({50, 8}, torch::requires_grad());
  torch::Tensor h = torch::randn({10, 8});
  torch::Tensor t = torch::randint(0, 50, {10}, torch::kLong);
  auto head = [W](const torch::Tensor& x) { return torch::matmul(x, W.t()); };
  auto one = target_logprobs(head, h, t, 50, 1.0, false, 0);
  one.logprobs.sum().backward();
  torch::Tensor g_one = W.grad().clone();
  W.mutable_grad().zero_();
  auto chunked = target_logprobs(head, h, t, 50, 1.0, false, 50 * 4 * 3);
  chunked.logprobs.sum().backward();
  EXPECT_LT(rel(chunked.logprobs.detach(), one.logprobs.detach()), 1e-6);
  EXPECT_LT(rel(W.grad(), g_one), 1e-6);
  EXPECT_GT(g_one.abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace seer::model
