// Activation checkpointing (trainer.gradient_checkpointing): the same gradients for every parameter as the
// eager backward, on the tiny LLaVA and tiny Qwen2-VL presets in float64 (a padded batch with an image, images
// and all layers trainable); the graph really holds one recompute node per decoder layer; and a block whose input
// needs no gradient (frozen embeddings) still gives its parameters their gradients.
#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/activation_checkpoint.h"
#include "model/presets.h"
#include "model/vlm.h"

#include "autograd_nodes.h"

namespace seer::model {
namespace {

std::map<std::string, torch::Tensor> grads_of(Vlm& m, const std::function<torch::Tensor()>& loss, bool checkpoint,
                                              int64_t* recompute_nodes) {
  m.set_gradient_checkpointing(checkpoint);
  for (auto& [name, p] : m.named_parameters()) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
  torch::Tensor l = loss();
  *recompute_nodes = count_nodes(l.grad_fn().get(), "Recompute");
  l.backward();
  std::map<std::string, torch::Tensor> out;
  for (auto& [name, p] : m.named_parameters()) {
    if (p.grad().defined()) out[name] = p.grad().clone();
  }
  return out;
}

void expect_same_gradients(const std::string& preset) {
  LoadOptions o;
  o.dtype = at::kDouble;
  o.freeze_vision_tower = false;
  const VlmConfig c = preset_config(preset);
  auto m = Vlm::create(c, 5, o);
  m->set_train(true);
  torch::manual_seed(1);
  torch::Tensor image = c.dynamic_resolution() ? torch::randn({1, 1, 4, 6, c.qwen_vision.patch_dim()}, torch::kDouble)
                                               : torch::randn({1, 3, 32, 32}, torch::kDouble);
  const int64_t F = m->image_tokens(image[0]);
  std::vector<int64_t> row = {40, 41};
  if (c.dynamic_resolution()) row.push_back(c.vision_start_token_id);
  for (int64_t i = 0; i < F; ++i) row.push_back(c.image_token_index);
  if (c.dynamic_resolution()) row.push_back(c.vision_end_token_id);
  for (int64_t t : {50, 51, 52, 53, 54}) row.push_back(t);
  const int64_t T = static_cast<int64_t>(row.size());
  std::vector<int64_t> second(static_cast<size_t>(T), 0);  // text only, left-padded by 3
  for (int64_t t = 3; t < T; ++t) second[static_cast<size_t>(t)] = 60 + t;
  const auto ids = torch::stack({torch::tensor(row, torch::kLong), torch::tensor(second, torch::kLong)});
  auto mask = torch::ones({2, T}, torch::kLong);
  mask[1].narrow(0, 0, 3).zero_();
  auto target = torch::zeros({2, T}, torch::kBool);
  target.narrow(1, T - 4, 4).fill_(true);
  const auto positions = m->positions(ids, mask.to(torch::kBool), {image});
  auto w = torch::randn({2, T}, torch::kDouble);
  auto loss = [&] {
    const auto lp = m->token_logprobs(ids, mask, m->image_features(image), target, 1.0, false, positions);
    return -(lp.logprobs * w).sum();
  };
  int64_t eager_nodes = -1, checkpoint_nodes = -1;
  const auto eager = grads_of(*m, loss, false, &eager_nodes);
  const auto recomputed = grads_of(*m, loss, true, &checkpoint_nodes);
  EXPECT_EQ(eager_nodes, 0) << preset;
  EXPECT_EQ(checkpoint_nodes, c.text.num_hidden_layers) << preset;
  ASSERT_EQ(eager.size(), recomputed.size()) << preset;
  int64_t nonzero = 0;
  for (const auto& [name, g] : eager) {
    ASSERT_TRUE(recomputed.count(name)) << preset << " " << name;
    EXPECT_TRUE(torch::allclose(recomputed.at(name), g, 1e-12, 1e-15)) << preset << " " << name;
    nonzero += g.abs().sum().item<double>() > 0;
  }
  EXPECT_GT(nonzero, static_cast<int64_t>(eager.size()) / 2) << preset << ": most parameters should get a gradient";
  // Evaluation and generation are untouched: no recompute nodes without training mode.
  m->set_train(false);
  m->set_gradient_checkpointing(true);
  EXPECT_EQ(count_nodes(loss().grad_fn().get(), "Recompute"), 0) << preset;
}

TEST(ActivationCheckpoint, SameGradientsTinyLlava) { expect_same_gradients("tiny"); }
TEST(ActivationCheckpoint, SameGradientsTinyQwen2Vl) { expect_same_gradients("tiny-qwen2vl"); }

TEST(ActivationCheckpoint, InputWithoutGradientStillTrainsTheBlock) {
  torch::manual_seed(2);
  torch::nn::Linear a(6, 6), b(6, 3);
  a->to(torch::kDouble);
  b->to(torch::kDouble);
  const auto x = torch::randn({4, 6}, torch::kDouble);  // requires_grad false, like a frozen embedding's output
  auto block = [&](const torch::Tensor& h) { return b(torch::tanh(a(h))); };
  auto eager = torch::autograd::grad({block(x).pow(2).sum()}, {a->weight, b->bias});
  checkpointed(block, x).pow(2).sum().backward();
  EXPECT_TRUE(torch::allclose(a->weight.grad(), eager[0], 1e-13, 0));
  EXPECT_TRUE(torch::allclose(b->bias.grad(), eager[1], 1e-13, 0));
  torch::NoGradGuard off;
  EXPECT_TRUE(torch::equal(checkpointed(block, x), block(x)));
}

}  // namespace
}  // namespace seer::model
