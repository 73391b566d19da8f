// Gradients of a trainable vision tower accumulate correctly over micro-batches: after a first backward
// pass and zero_grad, a second backward gives every parameter exactly its own gradient (as
// torch::autograd::grad computes it), and without zeroing the sum of both. With one image per pass
// (B = 1) LibTorch 1.13 once handed CLIP's class_embedding and position_embedding views of one shared
// gradient buffer, so later passes accumulated into both (2-3x gradients, found by the GRPO learner's
// one-tower-pass-per-group test).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/presets.h"
#include "model/vlm.h"

namespace seer::model {
namespace {

TEST(VisionGrad, MicroBatchesAccumulateExactGradients) {
  LoadOptions o;
  o.dtype = at::kDouble;
  o.freeze_vision_tower = false;
  auto m = Vlm::create(preset_config("tiny"), 3, o);
  m->set_train(true);
  const int64_t F = m->config().image_feature_count(), D = m->config().text.hidden_size;
  auto x1 = torch::randn({1, 3, 32, 32}, torch::kDouble), x2 = torch::randn({1, 3, 32, 32}, torch::kDouble);
  auto w = torch::randn({F, D}, torch::kDouble);
  auto loss_of = [&](const torch::Tensor& x) { return (m->image_features(x)[0] * w).sum(); };
  std::vector<std::string> names;
  std::vector<torch::Tensor> params;
  for (const auto& [name, p] : m->named_parameters()) {
    if (name.rfind("vision_tower.", 0) == 0 || name.rfind("multi_modal_projector.", 0) == 0) {
      names.push_back(name);
      params.push_back(p);
    }
  }
  auto truth = [&](const torch::Tensor& x) { return torch::autograd::grad({loss_of(x)}, params, {}, false, false, true); };
  const auto g1 = truth(x1), g2 = truth(x2);
  loss_of(x1).backward();
  for (auto& p : params) {
    if (p.grad().defined()) p.mutable_grad().zero_();  // what AdamW::zero_grad does
  }
  loss_of(x2).backward();
  for (size_t i = 0; i < params.size(); ++i) {
    if (!g2[i].defined()) continue;  // unused by the features (post_layernorm)
    EXPECT_TRUE(torch::allclose(params[i].grad(), g2[i], 1e-10, 1e-14)) << names[i] << " after zero_grad";
  }
  loss_of(x1).backward();  // no zeroing: the two passes add up
  for (size_t i = 0; i < params.size(); ++i) {
    if (!g2[i].defined()) continue;
    EXPECT_TRUE(torch::allclose(params[i].grad(), g1[i] + g2[i], 1e-10, 1e-14)) << names[i] << " accumulated";
  }
}

}  // namespace
}  // namespace seer::model
