// Generation and the training forward on the golden LLaVA model (random weights with clear logit gaps):
// one vision pass and one prefill per group, batching with mixed prompt lengths, generation log-probs
// equal to the training forward's, banned tokens never sampled, finish reasons.
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/generate.h"
#include "model/presets.h"
#include "model/safetensors.h"
#include "model/vlm.h"

namespace seer::model {
namespace {

std::string golden(const std::string& sub) {
  const char* env = std::getenv("SEER_GOLDEN_DIR");
  return std::string(env != nullptr && *env != '\0' ? env : SEER_DEFAULT_GOLDEN_DIR) + "/" + sub;
}

class Generation : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = Vlm::load(golden("llava-clip-llama"));
    SafetensorsFile cases(golden("llava-clip-llama") + "/cases.safetensors");
    ids_ = cases.tensor("input.input_ids")[0];       // (28): bos, 5 text, 16 image, 6 text
    pixels_ = cases.tensor("input.pixel_values");    // (1, 3, 32, 32)
  }
  /// The golden prompt with `drop` text tokens removed from its end, and a different image per variant.
  Prompt variant(int64_t drop, double shade) const {
    return {ids_.narrow(0, 0, ids_.size(0) - drop).clone(), {(pixels_ * shade).clone()}};
  }
  std::unique_ptr<Vlm> model_;
  torch::Tensor ids_, pixels_;
};

TEST_F(Generation, OneVisionPassAndOnePrefillPerGroup) {
  SamplingParams p;
  p.max_new_tokens = 6;
  p.seed = 3;
  const auto before_vision = model_->vision_passes(), before_prefill = model_->prefill_passes();
  const auto g = generate(*model_, {variant(0, 1.0)}, /*group_size=*/8, p);
  EXPECT_EQ(g.tokens.size(0), 8);
  EXPECT_EQ(model_->vision_passes() - before_vision, 1);
  EXPECT_EQ(model_->prefill_passes() - before_prefill, 1);
  // Two prompts in one call: still one vision pass (both images together) and one prefill.
  generate(*model_, {variant(0, 1.0), variant(2, 0.5)}, 8, p);
  EXPECT_EQ(model_->vision_passes() - before_vision, 2);
  EXPECT_EQ(model_->prefill_passes() - before_prefill, 2);
}

TEST_F(Generation, MixedPromptLengthsMatchEachAlone) {
  SamplingParams p;
  p.temperature = 0;
  p.max_new_tokens = 10;
  const std::vector<Prompt> prompts = {variant(0, 1.0), variant(4, 0.7), variant(2, -0.3)};
  const auto together = generate(*model_, prompts, 2, p);
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto alone = generate(*model_, {prompts[i]}, 1, p);
    for (int64_t s = 0; s < 2; ++s) {
      EXPECT_TRUE(torch::equal(together.tokens[static_cast<int64_t>(i) * 2 + s], alone.tokens[0]))
          << "prompt " << i << "\n" << together.tokens << "\n" << alone.tokens;
    }
  }
}

TEST_F(Generation, LogprobsEqualTheTrainingForward) {
  SamplingParams p;
  p.temperature = 0.7;
  p.top_k = 50;
  p.top_p = 0.95;
  p.max_new_tokens = 12;
  p.seed = 11;
  const std::vector<Prompt> prompts = {variant(0, 1.0), variant(3, 0.8)};
  const int64_t G = 4;
  const auto g = generate(*model_, prompts, G, p);
  // Rebuild prompt + completion rows (right-padded) and score the completion tokens.
  const int64_t R = g.tokens.size(0), steps = g.tokens.size(1);
  const int64_t width = ids_.size(0) + steps;
  auto ids = torch::zeros({R, width}, torch::kLong);
  auto mask = torch::zeros({R, width}, torch::kLong);
  auto targets = torch::zeros({R, width}, torch::kBool);
  std::vector<torch::Tensor> images;
  for (int64_t r = 0; r < R; ++r) {
    const Prompt& pr = prompts[static_cast<size_t>(r / G)];
    const int64_t n = pr.ids.size(0), len = g.lengths[static_cast<size_t>(r)];
    ids[r].narrow(0, 0, n).copy_(pr.ids);
    ids[r].narrow(0, n, len).copy_(g.tokens[r].narrow(0, 0, len));
    mask[r].narrow(0, 0, n + len).fill_(1);
    targets[r].narrow(0, n, len).fill_(true);
    images.push_back(pr.images[0]);
  }
  torch::NoGradGuard no_grad;
  const auto features = model_->image_features(torch::cat(images, 0));
  const auto scored = model_->token_logprobs(ids, mask, features, targets, p.temperature, /*with_entropy=*/true);
  auto from_generation = torch::zeros({R, width});
  for (int64_t r = 0; r < R; ++r) {
    const int64_t n = prompts[static_cast<size_t>(r / G)].ids.size(0), len = g.lengths[static_cast<size_t>(r)];
    from_generation[r].narrow(0, n, len).copy_(g.logprobs[r].narrow(0, 0, len));
  }
  const double rel = (scored.logprobs - from_generation).norm().item<double>() / from_generation.norm().item<double>();
  EXPECT_LT(rel, 1e-5);
  EXPECT_TRUE((scored.entropy.index({targets}) > 0).all().item<bool>());
  EXPECT_TRUE((scored.logprobs.index({targets.logical_not()}) == 0).all().item<bool>());
}

TEST_F(Generation, TrainingForwardHasGradientsOnlyWhereTrainable) {
  model_->set_train(true);
  auto ids = ids_.unsqueeze(0);
  auto targets = torch::zeros_like(ids, torch::kBool);
  targets.narrow(1, 22, 6).fill_(true);
  const auto out = model_->token_logprobs(ids, torch::ones_like(ids), model_->image_features(pixels_), targets);
  out.logprobs.sum().backward();
  for (const auto& [name, t] : model_->named_parameters()) {
    const bool vision = name.rfind("vision_tower.", 0) == 0;
    EXPECT_EQ(t.grad().defined(), !vision) << name;
  }
  model_->set_train(false);
}

TEST(GenerationTiny, BannedTokensNeverSampledAndFinishReasons) {
  const auto dir = std::filesystem::temp_directory_path() / ("seer_tiny_" + std::to_string(::getpid()));
  init_model("tiny", dir.string(), 5, true);
  auto model = Vlm::load(dir.string());
  const int64_t image = model->config().image_token_index;
  auto ids = torch::full({17}, image, torch::kLong);
  ids[0] = 257;  // <|im_start|>
  SamplingParams p;
  p.temperature = 5.0;  // nearly uniform: without the ban the placeholder would appear
  p.max_new_tokens = 64;
  p.stop_ids = {258};
  p.banned_ids = {256};
  const auto g = generate(*model, {Prompt{ids, {torch::zeros({1, 3, 32, 32})}}}, 8, p);
  EXPECT_FALSE((g.tokens == image).any().item<bool>());
  EXPECT_FALSE((g.tokens.narrow(1, 0, 1) == 256).any().item<bool>());
  for (size_t r = 0; r < g.finish.size(); ++r) {
    const int64_t len = g.lengths[r];
    if (g.finish[r] == FinishReason::kStop) {
      EXPECT_EQ(g.tokens[static_cast<int64_t>(r)][len - 1].item<int64_t>(), 258);
    } else {
      EXPECT_EQ(len, 64);
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace seer::model
