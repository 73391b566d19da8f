// LoRA adapters (model/lora.h): the layer equals its base with B = 0 and base + (alpha/r) B A x otherwise;
// adapters off gives the base; a step changes only adapter tensors; merging gives the adapter's logits;
// and a folder written by PEFT itself (tests/golden/peft-lora, scripts/golden/peft_lora_reference.py) loads
// with PEFT's logits (adapters on, off, merged), and seer writes PEFT's tensor names and config keys.
#include <cstdlib>
#include <filesystem>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/atomic_file.h"
#include "core/check.h"
#include "model/linear.h"
#include "model/lora.h"
#include "model/presets.h"
#include "model/safetensors.h"
#include "model/vlm.h"

namespace seer::model {
namespace {
namespace fs = std::filesystem;

double rel(const at::Tensor& a, const at::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item<double>();
}

/// Logits (B, T, V) of a decoder-only pass over ids (B, T).
at::Tensor text_logits(Vlm& m, const at::Tensor& ids) {
  torch::NoGradGuard no_grad;
  const auto e = m.embed(ids, at::Tensor());
  return m.logits(m.decode(e, torch::arange(ids.size(1)).unsqueeze(0).expand_as(ids), torch::ones_like(ids, torch::kBool)));
}

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("seer_lora_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(LoraLinear, ZeroBIsTheBaseLayerAndTrainedBAddsScaledLowRankProduct) {
  torch::manual_seed(3);
  auto lin = std::make_shared<LinearImpl>(6, 5, true);
  const auto x = torch::randn({4, 6});
  const auto base = lin->forward(x).detach();
  lin->add_lora(2, 8.0, 0.0);
  EXPECT_TRUE(torch::equal(lin->forward(x), base)) << "an adapter with B = 0 must leave the layer unchanged";
  EXPECT_EQ(lin->lora_A->weight.sizes(), (std::vector<int64_t>{2, 6}));
  EXPECT_EQ(lin->lora_B->weight.sizes(), (std::vector<int64_t>{5, 2}));
  const double bound = 1.0 / std::sqrt(6.0);  // kaiming uniform a = sqrt(5): U(-1/sqrt(in), 1/sqrt(in))
  EXPECT_LE(lin->lora_A->weight.abs().max().item<double>(), bound);
  EXPECT_GT(lin->lora_A->weight.abs().max().item<double>(), 0.0);
  {
    torch::NoGradGuard no_grad;
    lin->lora_B->weight.copy_(torch::randn({5, 2}));
  }
  const auto expected = base + 4.0 * x.matmul(lin->lora_A->weight.t()).matmul(lin->lora_B->weight.t());  // alpha/r = 4
  EXPECT_LT(rel(lin->forward(x), expected), 1e-6);
  {
    AdaptersOff off;
    EXPECT_TRUE(torch::allclose(lin->forward(x), base));
  }
  EXPECT_LT(rel(lin->forward(x), expected), 1e-6) << "AdaptersOff must end with its scope";
  lin->merge_lora();
  EXPECT_FALSE(lin->has_lora());
  EXPECT_LT(rel(lin->forward(x), expected), 1e-5);
  EXPECT_THROW(lin->merge_lora(), Error);
}

TEST(LoraTargets, PeftRuleExactNameOrDottedSuffix) {
  EXPECT_TRUE(lora_targets("model.layers.0.self_attn.q_proj", {"q_proj"}));
  EXPECT_TRUE(lora_targets("q_proj", {"q_proj"}));
  EXPECT_TRUE(lora_targets("model.layers.0.self_attn.q_proj", {"self_attn.q_proj"}));
  EXPECT_FALSE(lora_targets("model.layers.0.self_attn.qq_proj", {"q_proj"}));
  EXPECT_FALSE(lora_targets("model.layers.0.self_attn.q_proj_x", {"q_proj"}));
  EXPECT_FALSE(lora_targets("model.layers.0.mlp.down_proj", {"q_proj", "v_proj"}));
}

class TinyVlm : public ::testing::Test {
 protected:
  void SetUp() override {
    LoadOptions o;
    o.lora.rank = 4;
    o.lora.alpha = 8;
    o.lora.target_modules = {"q_proj", "v_proj", "linear_1"};  // decoder attention and the projector's first layer
    model_ = Vlm::create(preset_config("tiny"), 7, o);
  }
  std::unique_ptr<Vlm> model_;
};

TEST_F(TinyVlm, AdaptersGoOnTheDecoderAndProjectorNeverTheVisionTower) {
  const auto& adapted = model_->lora_modules();
  ASSERT_FALSE(adapted.empty());
  const int64_t layers = model_->config().text.num_hidden_layers;
  EXPECT_EQ(static_cast<int64_t>(adapted.size()), 2 * layers + 1);  // q, v per layer + projector linear_1
  for (const auto& m : adapted) {
    for (const auto& p : model_->config().vision_tower_prefixes()) EXPECT_NE(m.rfind(p, 0), 0u) << m;
  }
  // Only adapter parameters take gradients.
  std::set<const void*> trainable;
  for (const auto& t : model_->trainable_parameters()) trainable.insert(t.data_ptr());
  EXPECT_EQ(trainable.size(), 2 * adapted.size());
  for (const auto& [name, p] : model_->named_parameters()) {
    EXPECT_EQ(trainable.count(p.data_ptr()) == 1, is_lora_parameter(name)) << name;
  }
  LoraSpec bad;
  bad.rank = 2;
  bad.target_modules = {"no_such_layer"};
  auto other = Vlm::create(preset_config("tiny"), 7);
  try {
    other->add_lora(bad, 1);
    FAIL() << "a target that matches nothing must be an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q_proj"), std::string::npos) << "should name the layers that exist: " << e.what();
  }
}

TEST_F(TinyVlm, AStepChangesOnlyAdapterTensors) {
  model_->set_train(true);
  std::map<std::string, at::Tensor> before;
  for (const auto& [name, p] : model_->named_parameters()) before[name] = p.detach().clone();
  torch::optim::SGD sgd(model_->trainable_parameters(), torch::optim::SGDOptions(0.5));
  const auto ids = torch::randint(3, 60, {2, 9});
  for (int step = 0; step < 2; ++step) {  // the first step moves B off zero, the second then moves A too
    sgd.zero_grad();
    const auto e = model_->embed(ids, at::Tensor());
    const auto logits = model_->logits(model_->decode(e, torch::arange(9).unsqueeze(0).expand_as(ids),
                                                      torch::ones_like(ids, torch::kBool)));
    torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}), ids.reshape({-1})).backward();
    sgd.step();
  }
  // Text only: the projector's adapter gets no gradient; every decoder adapter (A and B) moves.
  int changed_adapters = 0, decoder_adapters = 0;
  for (const auto& [name, p] : model_->named_parameters()) {
    const bool same = torch::equal(p.detach(), before.at(name));
    if (is_lora_parameter(name)) {
      changed_adapters += same ? 0 : 1;
      decoder_adapters += name.rfind("language_model.", 0) == 0 ? 1 : 0;
    } else {
      EXPECT_TRUE(same) << name << " is a base weight and changed";
    }
  }
  EXPECT_EQ(decoder_adapters, 4 * model_->config().text.num_hidden_layers);
  EXPECT_EQ(changed_adapters, decoder_adapters);
}

TEST_F(TinyVlm, AdapterFolderRoundTripsAndMergedExportGivesTheSameLogits) {
  const fs::path dir = temp_dir("roundtrip");
  // A base folder for the adapter to name, then adapters with non-zero B.
  auto base = Vlm::create(preset_config("tiny"), 7);
  base->save_pretrained((dir / "base").string());
  LoadOptions o;
  o.lora = model_->lora();
  auto m = Vlm::load((dir / "base").string(), o);
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, p] : m->named_parameters()) {
      if (is_lora_parameter(name)) p.copy_(torch::randn(p.sizes()) * 0.1);
    }
  }
  const auto ids = torch::randint(3, 60, {2, 8});
  const auto with_adapters = text_logits(*m, ids);
  const auto base_logits = text_logits(*base, ids);
  ASSERT_GT(rel(with_adapters, base_logits), 1e-3) << "the adapters should change the logits";
  {
    AdaptersOff off;
    EXPECT_TRUE(torch::allclose(text_logits(*m, ids), base_logits, 1e-6, 1e-6));
  }

  m->save_pretrained((dir / "adapter").string());
  EXPECT_TRUE(fs::exists(dir / "adapter" / "adapter_config.json"));
  EXPECT_FALSE(fs::exists(dir / "adapter" / "model.safetensors")) << "a LoRA checkpoint must not copy the base";
  auto back = Vlm::load((dir / "adapter").string());
  EXPECT_TRUE(torch::equal(text_logits(*back, ids), with_adapters));
  EXPECT_EQ(back->base_model_path(), fs::absolute(dir / "base").lexically_normal().string());

  back->save_merged((dir / "merged").string());
  auto merged = Vlm::load((dir / "merged").string());
  EXPECT_EQ(merged->lora().rank, 0);
  EXPECT_LT(rel(text_logits(*merged, ids), with_adapters), 1e-5);
  fs::remove_all(dir);
}

TEST(LoraAdapterFile, ConfigsSeerCannotApplyAreErrorsNamingTheField) {
  const fs::path dir = temp_dir("bad");
  write_file_atomic((dir / "adapter_config.json").string(),
                    R"({"peft_type": "LORA", "r": 4, "lora_alpha": 8, "use_dora": true, "base_model_name_or_path": "x"})");
  try {
    read_peft_adapter(dir.string());
    FAIL() << "use_dora must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("use_dora"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("adapter_config.json"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

/// The PEFT-written folder: SEER_LORA_GOLDEN_DIR, else the repository's tests/golden/peft-lora.
fs::path peft_golden() {
  const char* env = std::getenv("SEER_LORA_GOLDEN_DIR");
  return env != nullptr ? fs::path(env) : fs::path(SEER_REPO_GOLDEN_DIR) / "peft-lora";
}

TEST(PeftGolden, PeftsAdapterLoadsWithPeftsLogitsOnOffAndMerged) {
  const fs::path g = peft_golden();
  ASSERT_TRUE(fs::exists(g / "adapter" / "adapter_config.json")) << g;
  SafetensorsFile cases((g / "cases.safetensors").string());
  const auto ids = cases.tensor("input_ids");
  auto m = Vlm::load((g / "adapter").string());
  ASSERT_GT(m->lora().rank, 0);
  EXPECT_LT(rel(text_logits(*m, ids), cases.tensor("logits_lora")), 1e-5);
  {
    AdaptersOff off;
    EXPECT_LT(rel(text_logits(*m, ids), cases.tensor("logits_base")), 1e-5);
  }
  const fs::path dir = temp_dir("peft_merged");
  m->save_merged((dir / "merged").string());
  EXPECT_LT(rel(text_logits(*Vlm::load((dir / "merged").string()), ids), cases.tensor("logits_merged")), 1e-5);
  fs::remove_all(dir);
}

TEST(PeftGolden, SeerWritesPeftsTensorNamesAndConfigKeysAndAdaptsTheSameLayers) {
  const fs::path g = peft_golden();
  const auto peft_config = nlohmann::json::parse(read_file((g / "adapter" / "adapter_config.json").string()));
  // PEFT's list of targets, applied by seer's rule to the same base, adapts exactly the layers PEFT adapted.
  LoraSpec spec;
  spec.rank = peft_config.at("r").get<int64_t>();
  spec.alpha = peft_config.at("lora_alpha").get<double>();
  spec.target_modules = peft_config.at("target_modules").get<std::vector<std::string>>();
  LoadOptions o;
  o.lora = spec;
  auto m = Vlm::load((g / "base").string(), o);
  std::set<std::string> peft_names, seer_names;
  const SafetensorsFile peft_file((g / "adapter" / "adapter_model.safetensors").string());
  for (const auto& [name, e] : peft_file.entries()) peft_names.insert(name);
  const fs::path dir = temp_dir("peft_names");
  m->save_pretrained(dir.string());
  const SafetensorsFile seer_file((dir / "adapter_model.safetensors").string());
  for (const auto& [name, e] : seer_file.entries()) seer_names.insert(name);
  EXPECT_EQ(seer_names, peft_names);
  std::set<std::string> peft_keys, seer_keys;
  for (const auto& [k, v] : peft_config.items()) peft_keys.insert(k);
  const auto seer_config = nlohmann::json::parse(read_file((dir / "adapter_config.json").string()));
  for (const auto& [k, v] : seer_config.items()) seer_keys.insert(k);
  EXPECT_EQ(seer_keys, peft_keys);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace seer::model
