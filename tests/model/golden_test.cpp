// The VLM against Hugging Face transformers (../shared/golden, or $SEER_GOLDEN_DIR): every intermediate,
// the logits (relative L2 error < 1e-4, computed in double), and greedy generation (exact ids). On another device
// or dtype: golden_env.h.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/generate.h"
#include "golden_env.h"
#include "model/safetensors.h"
#include "model/vlm.h"

namespace seer::model {
namespace {

std::string golden_dir() {
  const char* env = std::getenv("SEER_GOLDEN_DIR");
  return env != nullptr && *env != '\0' ? env : SEER_DEFAULT_GOLDEN_DIR;
}

double rel_error(const torch::Tensor& out, const torch::Tensor& ref) {
  auto o = out.detach().cpu().to(torch::kDouble);
  auto r = ref.to(torch::kDouble);
  EXPECT_EQ(o.sizes(), r.sizes());
  if (o.sizes() != r.sizes()) return 1e9;
  return (o - r).norm().item<double>() / r.norm().item<double>();
}

class Golden : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = golden_dir() + "/" + GetParam();
    ASSERT_TRUE(std::filesystem::exists(dir_ + "/config.json"))
        << "golden model not found at " << dir_ << " (set SEER_GOLDEN_DIR to the folder holding "
        << "llava-clip-llama/ and llava-siglip-qwen2/, default ../shared/golden)";
    model_ = Vlm::load(dir_, golden_load_options());
    cases_ = std::make_unique<SafetensorsFile>(dir_ + "/cases.safetensors");
  }
  torch::Tensor ref(const std::string& name) { return cases_->tensor(name); }
  std::string dir_;
  std::unique_ptr<Vlm> model_;
  std::unique_ptr<SafetensorsFile> cases_;
};

TEST_P(Golden, EveryIntermediateAndTheLogitsMatchTransformers) {
  torch::NoGradGuard no_grad;
  const auto pixels = ref("input.pixel_values");
  const auto ids = ref("input.input_ids");
  const VisionTrace vision = model_->trace_vision(pixels, /*all_layers=*/true);
  for (size_t i = 0; i < vision.hidden_states.size(); ++i) {
    EXPECT_LT(rel_error(vision.hidden_states[i], ref("vision.hidden_states." + std::to_string(i))), golden_tolerance()) << i;
  }
  EXPECT_LT(rel_error(vision.last_hidden_state, ref("vision.last_hidden_state")), golden_tolerance());
  EXPECT_LT(rel_error(model_->trace_vision(pixels).selected, ref("vision.selected_features")), golden_tolerance());
  EXPECT_LT(rel_error(vision.features, ref("projector.image_features")), golden_tolerance());

  const auto embeds = model_->embed(ids, vision.features);
  EXPECT_LT(rel_error(embeds, ref("llm.inputs_embeds")), golden_tolerance());
  const auto mask = ref("input.attention_mask").to(torch::kBool);
  const auto positions = torch::arange(ids.size(1)).unsqueeze(0);
  std::vector<torch::Tensor> layers;
  const auto hidden = model_->decode(embeds, positions, mask, nullptr, &layers);
  for (size_t i = 0; i < layers.size(); ++i) {
    EXPECT_LT(rel_error(layers[i], ref("llm.layer_output." + std::to_string(i))), golden_tolerance()) << i;
  }
  EXPECT_LT(rel_error(hidden, ref("llm.final_norm")), golden_tolerance());
  const double logits_rel = rel_error(model_->logits(hidden), ref("logits"));
  EXPECT_LT(logits_rel, golden_tolerance());
  // In bf16 the products round to 8 bits of mantissa: an error this small means the run was float32 after all.
  if (golden_bf16()) {
    EXPECT_GT(logits_rel, 1e-5) << "bf16 products were not in effect";
  }
}

TEST_P(Golden, GreedyGenerationMatchesExactly) {
  if (!cases_->contains("generate.new_tokens")) GTEST_SKIP() << GetParam() << " has no generation reference";
  SamplingParams p;
  p.temperature = 0;
  p.max_new_tokens = ref("generate.new_tokens").size(1);
  p.keep_step_logits = true;  // transformers 4.45 stops only at max_new_tokens here: no stop ids
  Prompt prompt{ref("input.input_ids")[0], {ref("input.pixel_values")}};
  const Generation g = generate(*model_, {prompt}, 1, p);
  if (!golden_bf16()) {
    EXPECT_TRUE(torch::equal(g.tokens.cpu(), ref("generate.new_tokens"))) << g.tokens << "\nvs\n" << ref("generate.new_tokens");
  }
  EXPECT_LT(rel_error(g.step_logits, ref("generate.step_logits")), golden_tolerance());
}

TEST_P(Golden, SaveAndReloadGiveIdenticalLogits) {
  torch::NoGradGuard no_grad;
  const auto tmp = std::filesystem::temp_directory_path() / ("seer_golden_" + GetParam() + std::to_string(::getpid()));
  std::filesystem::remove_all(tmp);
  const auto ids = ref("input.input_ids");
  auto logits_of = [&](Vlm& m) {
    auto e = m.embed(ids, m.image_features(ref("input.pixel_values")));
    return m.logits(m.decode(e, torch::arange(ids.size(1)).unsqueeze(0), torch::ones_like(ids, torch::kBool)));
  };
  const auto before = logits_of(*model_);
  model_->save_pretrained((tmp / "single").string());
  model_->save_pretrained((tmp / "sharded").string(), /*max_shard_bytes=*/64 * 1024);
  EXPECT_FALSE(std::filesystem::exists(tmp / "single" / "model.safetensors.index.json"));
  EXPECT_TRUE(std::filesystem::exists(tmp / "sharded" / "model.safetensors.index.json"));
  int shards = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp / "sharded")) {
    shards += e.path().filename().string().rfind("model-0", 0) == 0;
  }
  EXPECT_GE(shards, 2);
  for (const char* sub : {"single", "sharded"}) {
    auto again = Vlm::load((tmp / sub).string(), golden_load_options());
    EXPECT_TRUE(torch::equal(logits_of(*again).cpu(), before.cpu())) << sub;
  }
  // The saved tensor names are Hugging Face's, tied lm_head stays absent.
  CheckpointReader saved((tmp / "single").string());
  CheckpointReader original(dir_);
  EXPECT_EQ(saved.names(), original.names());
  std::filesystem::remove_all(tmp);
}

INSTANTIATE_TEST_SUITE_P(Models, Golden, ::testing::Values("llava-clip-llama", "llava-siglip-qwen2"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) c = c == '-' ? '_' : c;
                           return n;
                         });

}  // namespace
}  // namespace seer::model
