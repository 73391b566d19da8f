// HF config parsing and refusals, text-only checkpoints, and the image-placeholder count check.
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/check.h"
#include "model/hf_config.h"
#include "model/presets.h"
#include "model/safetensors.h"
#include "model/vlm.h"

namespace seer::model {
namespace {

nlohmann::json qwen2_text() {
  return {{"architectures", {"Qwen2ForCausalLM"}}, {"model_type", "qwen2"}, {"vocab_size", 300},
          {"hidden_size", 32}, {"intermediate_size", 64}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
          {"num_key_value_heads", 2}, {"rms_norm_eps", 1e-6}, {"rope_theta", 10000.0}, {"tie_word_embeddings", true},
          {"eos_token_id", 2}};
}

std::string error_of(const nlohmann::json& j) {
  try {
    parse_hf_config(j, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a refusal of " << j.dump();
  return "";
}

TEST(HfConfig, RefusesWhatItCannotReproduceByName) {
  auto j = qwen2_text();
  j["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}};
  EXPECT_NE(error_of(j).find("rope_scaling"), std::string::npos);
  j = qwen2_text();
  j["use_sliding_window"] = true;
  EXPECT_NE(error_of(j).find("use_sliding_window"), std::string::npos);
  j = qwen2_text();
  j["model_type"] = "mistral";
  j["architectures"] = {"MistralForCausalLM"};
  EXPECT_NE(error_of(j).find("MistralForCausalLM"), std::string::npos);
  j = qwen2_text();
  j["hidden_act"] = "gelu";
  EXPECT_NE(error_of(j).find("hidden_act 'gelu'"), std::string::npos);
  j = qwen2_text();
  j["num_key_value_heads"] = 3;
  EXPECT_NE(error_of(j).find("multiple of num_key_value_heads"), std::string::npos);
  auto llava = preset_config("tiny").raw;
  llava["vision_feature_layer"] = {-2, -5};
  EXPECT_NE(error_of(llava).find("lists of layers"), std::string::npos);
  llava = preset_config("tiny").raw;
  llava["vision_feature_select_strategy"] = "cls";
  EXPECT_NE(error_of(llava).find("'cls'"), std::string::npos);
  llava = preset_config("tiny").raw;
  llava["vision_config"]["model_type"] = "dinov2";
  EXPECT_NE(error_of(llava).find("'dinov2'"), std::string::npos);
  j = qwen2_text();
  j.erase("hidden_size");
  EXPECT_NE(error_of(j).find("missing 'hidden_size'"), std::string::npos);
}

TEST(HfConfig, TransformersFiveRopeParametersAreRead) {
  auto j = qwen2_text();  // transformers >= 5: rope_theta inside rope_parameters
  j.erase("rope_theta");
  j["rope_parameters"] = {{"rope_theta", 1000000.0}, {"rope_type", "default"}};
  EXPECT_DOUBLE_EQ(parse_hf_config(j, "config.json").text.rope_theta, 1000000.0);
  j["rope_parameters"] = {{"rope_theta", 1000000.0}, {"rope_type", "yarn"}, {"factor", 4.0}};
  EXPECT_NE(error_of(j).find("rope_type 'yarn'"), std::string::npos);
}

TEST(HfConfig, TextOnlyCheckpointUsesPlainNamesAndRoundTrips) {
  torch::NoGradGuard no_grad;
  const auto cfg = parse_hf_config(qwen2_text(), "config.json");
  EXPECT_FALSE(cfg.has_vision);
  EXPECT_TRUE(cfg.text.attention_bias);  // qwen2 always has q/k/v bias
  auto model = Vlm::create(cfg, 3);
  const auto dir = std::filesystem::temp_directory_path() / ("seer_text_" + std::to_string(::getpid()));
  model->save_pretrained(dir.string());
  CheckpointReader saved(dir.string());
  EXPECT_TRUE(saved.contains("model.embed_tokens.weight"));
  EXPECT_TRUE(saved.contains("model.layers.1.self_attn.q_proj.bias"));
  EXPECT_FALSE(saved.contains("lm_head.weight"));  // tied
  auto again = Vlm::load(dir.string());
  auto ids = torch::arange(10).unsqueeze(0);
  auto run = [&](Vlm& m) {
    return m.logits(m.decode(m.embed(ids, {}), torch::arange(10).unsqueeze(0), torch::ones({1, 10}, torch::kBool)));
  };
  EXPECT_TRUE(torch::equal(run(*model), run(*again)));
  EXPECT_THROW(model->image_features(torch::zeros({1, 3, 8, 8})), Error);
  std::filesystem::remove_all(dir);
}

TEST(HfConfig, PlaceholderCountMismatchNamesBothCounts) {
  auto model = Vlm::create(preset_config("tiny"), 1);
  const int64_t image = model->config().image_token_index;
  auto ids = torch::full({1, 10}, image, torch::kLong);  // 10 placeholders, the image gives 16 features
  const auto features = model->image_features(torch::zeros({1, 3, 32, 32}));
  try {
    model->embed(ids, features);
    FAIL() << "expected a count mismatch";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("10 image placeholder tokens"), std::string::npos) << m;
    EXPECT_NE(m.find("16 image features"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace seer::model

namespace seer::model {
namespace {

TEST(HfConfig, QwenVlConfigsAndTheirRefusals) {
  const nlohmann::json tiny = preset_config("tiny-qwen2vl").raw;
  const VlmConfig c = parse_hf_config(tiny, "config.json");
  EXPECT_EQ(c.architecture, "Qwen2VLForConditionalGeneration");
  EXPECT_EQ(c.text.mrope_section, (std::vector<int64_t>{4, 6, 6}));
  EXPECT_EQ(c.vision_tower_prefixes(), (std::vector<std::string>{"visual.patch_embed.", "visual.blocks."}));
  // The decoder keys under text_config (later transformers) read the same.
  nlohmann::json nested = tiny;
  nlohmann::json text = nlohmann::json::object();
  for (const char* k : {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                        "num_key_value_heads", "rope_scaling", "rope_theta", "rms_norm_eps", "tie_word_embeddings"}) {
    text[k] = nested[k];
    nested.erase(k);
  }
  text["model_type"] = "qwen2_vl_text";
  nested["text_config"] = text;
  EXPECT_EQ(parse_hf_config(nested, "config.json").text.num_hidden_layers, c.text.num_hidden_layers);
  // Qwen2.5-VL keys: hidden_size is the block width, out_hidden_size the merger's output.
  nlohmann::json v25 = tiny;
  v25["model_type"] = "qwen2_5_vl";
  v25["architectures"] = {"Qwen2_5_VLForConditionalGeneration"};
  v25["vision_config"] = {{"depth", 2}, {"hidden_size", 32}, {"intermediate_size", 48}, {"num_heads", 4},
                          {"out_hidden_size", tiny["hidden_size"]}, {"window_size", 56}, {"fullatt_block_indexes", {1}}};
  const VlmConfig c25 = parse_hf_config(v25, "config.json");
  EXPECT_TRUE(c25.qwen_vision.rms_norm && c25.qwen_vision.gated_mlp);
  EXPECT_EQ(c25.qwen_vision.embed_dim, 32);
  EXPECT_EQ(c25.qwen_vision.window_size, 56);
  // Refusals name the key.
  nlohmann::json bad = tiny;
  bad["rope_scaling"]["mrope_section"] = {4, 6, 7};
  EXPECT_NE(error_of(bad).find("mrope_section sums to 17"), std::string::npos);
  bad = v25;
  bad["vision_config"]["window_size"] = 50;
  EXPECT_NE(error_of(bad).find("window_size 50"), std::string::npos);
  bad = v25;
  bad["vision_config"]["fullatt_block_indexes"] = {5};
  EXPECT_NE(error_of(bad).find("fullatt_block_indexes holds 5"), std::string::npos);
  bad = tiny;
  bad["vision_config"]["hidden_size"] = 96;
  EXPECT_NE(error_of(bad).find("must equal the text hidden_size"), std::string::npos);
}

}  // namespace
}  // namespace seer::model
