// The tiny-qwen2vl preset through seer's own paths: save -> load gives identical logits and Hugging Face
// tensor names; the learner's log-probs of sampled completions equal the rollout's (temperature 0.7), for a
// left-padded batch of prompts with no image, one image, and two images of different sizes.
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/generate.h"
#include "model/presets.h"
#include "model/vlm.h"

namespace seer::model {
namespace {

LoadOptions f32() { return LoadOptions{}; }

/// A random image as the model takes it: (1, t, h, w, patch_dim) with h, w multiples of the merge size.
torch::Tensor random_image(const VlmConfig& c, int64_t h, int64_t w, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::randn({1, 1, h, w, c.qwen_vision.patch_dim()}, gen);
}

/// ids: a few text tokens, then per image vision_start, its `n` image tokens, vision_end, then a few more.
torch::Tensor prompt_ids(const VlmConfig& c, std::vector<int64_t> images, int64_t variant) {
  std::vector<int64_t> ids = {40 + variant, 41, 42};
  for (int64_t n : images) {
    ids.push_back(c.vision_start_token_id);
    for (int64_t i = 0; i < n; ++i) ids.push_back(c.image_token_index);
    ids.push_back(c.vision_end_token_id);
    ids.push_back(43);
  }
  for (int64_t i = 0; i < 3 + variant; ++i) ids.push_back(50 + i);
  return torch::tensor(ids, torch::kLong);
}

TEST(Qwen2VlPreset, SaveLoadKeepsLogitsAndHuggingFaceNames) {
  const VlmConfig c = preset_config("tiny-qwen2vl");
  ASSERT_TRUE(c.dynamic_resolution());
  auto m = Vlm::create(c, 7, f32());
  const auto dir = std::filesystem::temp_directory_path() / ("seer-qwen2vl-" + std::to_string(::getpid()));
  m->save_pretrained(dir.string());
  auto back = Vlm::load(dir.string());
  const auto names = back->named_parameters();
  for (const char* n : {"visual.patch_embed.proj.weight", "visual.blocks.0.attn.qkv.weight", "visual.blocks.1.mlp.fc2.bias",
                        "visual.merger.ln_q.weight", "visual.merger.mlp.0.weight", "visual.merger.mlp.2.weight",
                        "model.embed_tokens.weight", "model.layers.1.self_attn.q_proj.bias", "model.norm.weight"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
  for (const auto& [n, t] : names) {
    EXPECT_TRUE(n.rfind("visual.", 0) == 0 || n.rfind("model.", 0) == 0 || n == "lm_head.weight") << n;
  }
  torch::NoGradGuard no_grad;
  const auto image = random_image(c, 4, 6, 1);
  const auto ids = prompt_ids(c, {m->image_tokens(image[0])}, 0).unsqueeze(0);
  const auto valid = torch::ones_like(ids, torch::kBool);
  auto logits = [&](Vlm& v) {
    return v.logits(v.decode(v.embed(ids, v.image_features(image)), v.positions(ids, valid, {image}), valid));
  };
  EXPECT_TRUE(torch::equal(logits(*m), logits(*back)));
  std::filesystem::remove_all(dir);
}

TEST(Qwen2VlPreset, LearnerLogprobsEqualTheRollouts) {
  const VlmConfig c = preset_config("tiny-qwen2vl");
  auto m = Vlm::create(c, 7, f32());
  const auto big = random_image(c, 4, 6, 2), small = random_image(c, 2, 2, 3);
  const auto nb = m->image_tokens(big[0]), ns = m->image_tokens(small[0]);
  std::vector<Prompt> prompts = {{prompt_ids(c, {}, 2), {}},
                                 {prompt_ids(c, {nb}, 0), {big}},
                                 {prompt_ids(c, {ns}, 1), {small}},
                                 {prompt_ids(c, {ns, nb}, 3), {small, big}}};
  SamplingParams p;
  p.temperature = 0.7;
  p.max_new_tokens = 6;
  p.seed = 11;
  const Generation g = generate(*m, prompts, 2, p);
  // Each sample as the learner sees it: prompt + completion, right-padded, its image, positions from positions().
  for (int64_t r = 0; r < g.tokens.size(0); ++r) {
    const Prompt& pr = prompts[static_cast<size_t>(r / 2)];
    const int64_t n = g.lengths[static_cast<size_t>(r)];
    auto ids = torch::cat({pr.ids, g.tokens[r].narrow(0, 0, n)}).unsqueeze(0);
    auto valid = torch::ones_like(ids, torch::kBool);
    auto target = torch::zeros_like(valid);
    target.narrow(1, pr.ids.size(0), n).fill_(true);
    torch::NoGradGuard no_grad;
    const auto features = pr.images.empty() ? torch::Tensor() : torch::cat(m->image_features(pr.images), 0);
    const auto lp = m->token_logprobs(ids, valid, features, target, 0.7, false, m->positions(ids, valid, pr.images));
    const auto ours = lp.logprobs.narrow(1, pr.ids.size(0), n)[0];
    const auto rollout = g.logprobs[r].narrow(0, 0, n);
    EXPECT_LT((ours - rollout).norm().item<double>() / rollout.norm().item<double>(), 1e-5) << "row " << r;
  }
}

}  // namespace
}  // namespace seer::model
