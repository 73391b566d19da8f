// Expected tensors (model/expected_tensors.h) and parameter counts from config alone (model/param_count.h) against what exists: the modules seer builds for
// each preset, every golden checkpoint's stored tensors ($SEER_GOLDEN_DIR and tests/golden), and the model-card
// sizes of the real configs in configs/models (7B LLaVA, 3B/7B Qwen2.5-VL) the memory estimate is quoted for.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/expected_tensors.h"
#include "model/hf_config.h"
#include "model/param_count.h"
#include "model/presets.h"
#include "model/safetensors.h"
#include "model/vlm.h"

namespace seer::model {
namespace {

namespace fs = std::filesystem;

bool starts_with_any(const std::string& name, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (name.rfind(p, 0) == 0) return true;
  }
  return false;
}

/// Every golden checkpoint folder (config.json + model.safetensors) under tests/golden and $SEER_GOLDEN_DIR.
std::vector<fs::path> golden_checkpoints() {
  std::vector<std::string> roots = {SEER_REPO_GOLDEN_DIR};
  const char* env = std::getenv("SEER_GOLDEN_DIR");
  roots.push_back(env != nullptr && *env != '\0' ? env : SEER_DEFAULT_GOLDEN_DIR);
  std::vector<fs::path> out;
  for (const auto& root : roots) {
    if (!fs::is_directory(root)) continue;
    for (const auto& e : fs::directory_iterator(root)) {
      if (fs::exists(e.path() / "config.json") && fs::exists(e.path() / "model.safetensors")) out.push_back(e.path());
    }
  }
  return out;
}

TEST(ParamCount, PresetsEqualTheModulesSeerBuilds) {
  for (const char* preset : {"tiny", "tiny-qwen2vl"}) {
    const VlmConfig c = preset_config(preset);
    auto m = Vlm::create(c, 1, LoadOptions{});
    ParameterCount built;
    for (const auto& [name, p] : m->named_parameters()) {
      if (starts_with_any(name, c.vision_tower_prefixes())) built.vision_tower += p.numel();
      else if (starts_with_any(name, c.projector_prefixes())) built.projector += p.numel();
      else built.text += p.numel();
    }
    const ParameterCount counted = count_parameters(c);
    EXPECT_EQ(counted.vision_tower, built.vision_tower) << preset;
    EXPECT_EQ(counted.projector, built.projector) << preset;
    EXPECT_EQ(counted.text, built.text) << preset;
  }
}

TEST(ParamCount, LlamaWithAttentionBiasBiasesEveryProjection) {
  VlmConfig c = preset_config("tiny");
  c.text.model_type = "llama";
  c.text.attention_bias = true;  // transformers' LlamaAttention: q, k, v and o_proj all biased
  auto m = Vlm::create(c, 1, LoadOptions{});
  int64_t built = 0;
  for (const auto& [name, p] : m->named_parameters()) built += p.numel();
  EXPECT_EQ(count_parameters(c).total(), built);
  EXPECT_TRUE(m->named_parameters().count("language_model.model.layers.0.self_attn.o_proj.bias"));
}

TEST(ParamCount, GoldenCheckpointsEqualTheirStoredTensors) {
  const auto dirs = golden_checkpoints();
  for (const auto& dir : dirs) {
    SafetensorsFile file((dir / "model.safetensors").string());
    int64_t stored = 0;
    for (const auto& [name, entry] : file.entries()) {
      int64_t n = 1;
      for (int64_t d : entry.shape) n *= d;
      stored += n;
    }
    EXPECT_EQ(count_parameters(load_hf_config(dir.string())).total(), stored) << dir;
  }
  EXPECT_GE(dirs.size(), 1u) << "no golden checkpoint found";
}

/// name -> shape, for set comparisons that print the first difference.
std::map<std::string, std::vector<int64_t>> by_name(const std::vector<ExpectedTensor>& tensors) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& t : tensors) EXPECT_TRUE(out.emplace(t.name, t.shape).second) << "listed twice: " << t.name;
  return out;
}

void expect_same(const std::map<std::string, std::vector<int64_t>>& expected,
                 const std::map<std::string, std::vector<int64_t>>& actual, const std::string& what) {
  for (const auto& [name, shape] : actual) {
    auto it = expected.find(name);
    ASSERT_TRUE(it != expected.end()) << what << ": '" << name << "' exists but is not expected";
    EXPECT_EQ(it->second, shape) << what << ": " << name;
  }
  for (const auto& [name, shape] : expected) EXPECT_TRUE(actual.count(name)) << what << ": '" << name << "' missing";
}

/// The variants whose tensor lists differ: CLIP/SigLIP towers, Llama with biases, tied embeddings, Qwen2-VL and
/// Qwen2.5-VL towers, a text-only decoder.
std::vector<std::pair<std::string, VlmConfig>> variants() {
  std::vector<std::pair<std::string, VlmConfig>> out = {{"tiny", preset_config("tiny")},
                                                        {"tiny-qwen2vl", preset_config("tiny-qwen2vl")}};
  VlmConfig c = preset_config("tiny");
  c.text.model_type = "llama";
  c.text.attention_bias = true;
  c.text.mlp_bias = true;
  out.emplace_back("llama with biases", c);
  c = preset_config("tiny");
  c.text.tie_word_embeddings = true;
  out.emplace_back("tied embeddings", c);
  c = preset_config("tiny");
  c.vision.model_type = "siglip_vision_model";
  out.emplace_back("siglip tower", c);
  c = preset_config("tiny-qwen2vl");
  c.architecture = "Qwen2_5_VLForConditionalGeneration";
  c.qwen_vision.rms_norm = c.qwen_vision.gated_mlp = true;
  out.emplace_back("qwen2.5-vl tower", c);
  c = preset_config("tiny");
  c.architecture = "Qwen2ForCausalLM";
  c.has_vision = false;
  out.emplace_back("text only", c);
  return out;
}

TEST(ExpectedTensors, EqualTheModulesSeerBuilds) {
  for (const auto& [what, c] : variants()) {
    auto m = Vlm::create(c, 1, LoadOptions{});
    std::map<std::string, std::vector<int64_t>> built;
    for (const auto& [name, p] : m->named_parameters()) built[name] = p.sizes().vec();
    expect_same(by_name(expected_tensors(c)), built, what);
  }
}

TEST(ExpectedTensors, GoldenCheckpointsHoldExactlyThem) {
  const auto dirs = golden_checkpoints();
  for (const auto& dir : dirs) {
    SafetensorsFile file((dir / "model.safetensors").string());
    std::map<std::string, std::vector<int64_t>> stored;
    for (const auto& [name, entry] : file.entries()) stored[name] = entry.shape;
    expect_same(by_name(expected_tensors(load_hf_config(dir.string()))), stored, dir.string());
  }
  EXPECT_GE(dirs.size(), 3u) << "expected the llava and qwen2-vl golden checkpoints";
}

TEST(ParamCount, RealConfigsMatchTheirModelCards) {
  const std::vector<std::pair<std::string, double>> cards = {
      {"llava-1.5-7b", 7.06e9}, {"qwen2.5-vl-3b", 3.75e9}, {"qwen2.5-vl-7b", 8.29e9}};
  for (const auto& [name, billions] : cards) {
    const VlmConfig c = load_hf_config(std::string(SEER_REPO_MODEL_CONFIGS) + "/" + name);
    const double n = static_cast<double>(count_parameters(c).total());
    EXPECT_LT(std::abs(n - billions), 0.005e9) << name << ": " << n;  // the cards round to 3 digits
  }
}

}  // namespace
}  // namespace seer::model
