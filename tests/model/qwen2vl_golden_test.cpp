// Qwen2-VL's and Qwen2.5-VL's parts against Hugging Face transformers (../shared/golden/qwen2-vl or
// $SEER_GOLDEN_DIR, and the repository's tests/golden/qwen2_5-vl made by scripts/golden/qwen2_5_vl_reference.py): the
// image processor's patches, the 2-D vision rotary angles, every vision block, the PatchMerger, the M-RoPE
// position ids and deltas (exact), the decoder with multimodal rotary embeddings (every layer, logits), and
// greedy decoding with a KV cache whose steps use cache position + rope delta (exact ids). Relative L2
// errors in double, < 1e-4 as for the LLaVA goldens. Every model folder under either golden dir whose
// config.json says qwen2_vl or qwen2_5_vl is checked.
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/hf_config.h"
#include "model/image_decode.h"
#include "model/image_processor.h"
#include "model/kv_cache.h"
#include "model/language_model.h"
#include "model/mrope.h"
#include "model/qwen2vl_merger.h"
#include "model/qwen2vl_patches.h"
#include "model/qwen2vl_vision.h"
#include "model/rotary.h"
#include "model/generate.h"
#include "golden_env.h"
#include "model/safetensors.h"
#include "model/vlm.h"

namespace seer::model {
namespace {

std::string golden_root() {
  const char* env = std::getenv("SEER_GOLDEN_DIR");
  return env != nullptr && *env != '\0' ? env : SEER_DEFAULT_GOLDEN_DIR;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

bool is_qwen25(const nlohmann::json& cfg) { return cfg.value("model_type", "") == "qwen2_5_vl"; }

/// Folders under the golden dirs holding a qwen2_vl or qwen2_5_vl model (full paths).
std::vector<std::string> qwen2vl_folders() {
  std::vector<std::string> out;
  for (const std::string& root : {golden_root(), std::string(SEER_REPO_GOLDEN_DIR)}) {
    if (!std::filesystem::is_directory(root)) continue;
    for (const auto& e : std::filesystem::directory_iterator(root)) {
      const auto cfg = e.path() / "config.json";
      if (!std::filesystem::exists(cfg)) continue;
      const std::string type = read_json(cfg.string()).value("model_type", "");
      if (type == "qwen2_vl" || type == "qwen2_5_vl") out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string folder_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = std::filesystem::path(info.param).filename().string();
  for (char& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return n + "_" + std::to_string(info.index);  // the same folder name may sit under both roots
}

double rel_error(const torch::Tensor& out, const torch::Tensor& ref) {
  auto o = out.detach().cpu().to(torch::kDouble);
  auto r = ref.to(torch::kDouble);
  EXPECT_EQ(o.sizes(), r.sizes());
  if (o.sizes() != r.sizes()) return 1e9;
  return (o - r).norm().item<double>() / r.norm().item<double>();
}

/// Copies `prefix` + name of every parameter of `m` from the checkpoint; counts them in `used`.
void load(torch::nn::Module& m, const SafetensorsFile& w, const std::string& prefix, std::set<std::string>& used) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.named_parameters()) {
    const std::string name = prefix + p.key();
    ASSERT_TRUE(w.contains(name)) << name;
    const auto t = w.tensor(name);
    ASSERT_EQ(t.sizes(), p.value().sizes()) << name;
    p.value().copy_(t);
    used.insert(name);
  }
}

class Qwen2VlGolden : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = GetParam();
    const auto cfg = read_json(dir_ + "/config.json");
    text_ = parse_text_config(cfg, dir_ + "/config.json");
    vision_ = parse_qwen2_vision_config(cfg["vision_config"], dir_ + "/config.json vision_config", is_qwen25(cfg));
    image_token_ = cfg.at("image_token_id").get<int64_t>();
    weights_ = std::make_unique<SafetensorsFile>(dir_ + "/model.safetensors");
    cases_ = std::make_unique<SafetensorsFile>(dir_ + "/cases.safetensors");
    tower_ = Qwen2VisionTower(vision_);
    merger_ = Qwen2PatchMerger(vision_);
    decoder_ = Decoder(text_);
    std::set<std::string> used;
    load(*tower_, *weights_, "visual.", used);
    load(*merger_, *weights_, "visual.merger.", used);
    load(*decoder_, *weights_, "model.", used);
    lm_head_ = weights_->tensor("lm_head.weight");
    used.insert("lm_head.weight");
    for (const auto& [name, entry] : weights_->entries()) EXPECT_TRUE(used.count(name)) << "checkpoint tensor not read: " << name;
    const auto g = ref("input.image_grid_thw");
    grid_ = {g[0][0].item<int64_t>(), g[0][1].item<int64_t>(), g[0][2].item<int64_t>()};
  }
  torch::Tensor ref(const std::string& name) { return cases_->tensor(name); }

  std::string dir_;
  TextConfig text_;
  Qwen2VisionConfig vision_;
  int64_t image_token_ = -1;
  std::unique_ptr<SafetensorsFile> weights_, cases_;
  Qwen2VisionTower tower_{nullptr};
  Qwen2PatchMerger merger_{nullptr};
  Decoder decoder_{nullptr};
  torch::Tensor lm_head_;
  GridThw grid_{};
};

TEST_P(Qwen2VlGolden, ProcessorPatchesMatch) {
  const ProcessorConfig cfg = load_processor_config(dir_);
  const VisionPatches p = preprocess_patches(decode_image_file(dir_ + "/image.png"), cfg, "image.png");
  EXPECT_EQ(GridThw({p.grid_t, p.grid_h, p.grid_w}), grid_);
  const auto ours = torch::from_blob(const_cast<float*>(p.values.data()), {p.patches(), p.patch_dim});
  EXPECT_LT(rel_error(ours, ref("input.pixel_values")), 1e-3);
}

TEST_P(Qwen2VlGolden, VisionTowerAndMergerMatch) {
  torch::NoGradGuard no_grad;
  EXPECT_LT(rel_error(vision_rotary_angles({grid_}, vision_.head_dim(), vision_.spatial_merge_size, vision_.rope_theta),
                      ref("vision.rotary_pos_emb")),
            1e-6);
  std::vector<torch::Tensor> states;
  const auto last = tower_->forward(ref("input.pixel_values"), {grid_}, &states);
  ASSERT_EQ(states.size(), static_cast<size_t>(vision_.depth + 1));
  EXPECT_LT(rel_error(states[0], ref("vision.patch_embed")), 1e-4);
  for (int64_t i = 0; i < vision_.depth; ++i) {
    EXPECT_LT(rel_error(states[static_cast<size_t>(i + 1)], ref("vision.block_output." + std::to_string(i))), 1e-4) << i;
  }
  EXPECT_LT(rel_error(last, ref("vision.last_hidden_state")), 1e-4);
  EXPECT_LT(rel_error(merger_->forward(last), ref("projector.image_features")), 1e-4);
}

TEST_P(Qwen2VlGolden, RopeIndexIsExact) {
  const auto pos = multimodal_positions(ref("input.input_ids"), ref("input.attention_mask"), {grid_},
                                        vision_.spatial_merge_size, image_token_);
  EXPECT_TRUE(torch::equal(pos.positions, ref("rope.position_ids"))) << pos.positions << "\nvs\n" << ref("rope.position_ids");
  EXPECT_TRUE(torch::equal(pos.deltas, ref("rope.rope_deltas"))) << pos.deltas;
  // cos/sin: the reference holds the three streams before the section selection; select it here.
  const auto table = rotary_table(ref("rope.position_ids"), text_.head_dim, text_.rope_theta, text_.mrope_section, torch::kFloat);
  std::vector<torch::Tensor> cos, sin;
  int64_t at = 0;
  for (int half = 0; half < 2; ++half) {
    for (int64_t s = 0; s < 3; ++s) {
      const int64_t n = text_.mrope_section[static_cast<size_t>(s)];
      cos.push_back(ref("rope.cos")[s].narrow(-1, at, n));
      sin.push_back(ref("rope.sin")[s].narrow(-1, at, n));
      at += n;
    }
  }
  EXPECT_LT(rel_error(table.cos.squeeze(1), torch::cat(cos, -1)), 1e-6);
  EXPECT_LT(rel_error(table.sin.squeeze(1), torch::cat(sin, -1)), 1e-6);
}

TEST_P(Qwen2VlGolden, DecoderWithMultimodalRopeMatches) {
  torch::NoGradGuard no_grad;
  const auto ids = ref("input.input_ids");
  const auto features = merger_->forward(tower_->forward(ref("input.pixel_values"), {grid_}));
  auto embeds = decoder_->embed(ids);
  embeds = embeds.masked_scatter((ids == image_token_).unsqueeze(-1).expand_as(embeds), features);
  EXPECT_LT(rel_error(embeds, ref("llm.inputs_embeds")), 1e-4);
  const auto pos = multimodal_positions(ids, ref("input.attention_mask"), {grid_}, vision_.spatial_merge_size, image_token_);
  std::vector<torch::Tensor> layers;
  const auto hidden = decoder_->forward(embeds, pos.positions, ref("input.attention_mask").to(torch::kBool), nullptr, &layers);
  for (size_t i = 0; i < layers.size(); ++i) {
    EXPECT_LT(rel_error(layers[i], ref("llm.layer_output." + std::to_string(i))), 1e-4) << i;
  }
  EXPECT_LT(rel_error(hidden, ref("llm.final_norm")), 1e-4);
  EXPECT_LT(rel_error(torch::matmul(hidden, lm_head_.t()), ref("logits")), 1e-4);
}

TEST_P(Qwen2VlGolden, GreedyDecodingWithRopeDeltasIsExact) {
  torch::NoGradGuard no_grad;
  const auto ids = ref("input.input_ids");
  const auto mask = ref("input.attention_mask").to(torch::kBool);
  const auto features = merger_->forward(tower_->forward(ref("input.pixel_values"), {grid_}));
  auto embeds = decoder_->embed(ids);
  embeds = embeds.masked_scatter((ids == image_token_).unsqueeze(-1).expand_as(embeds), features);
  const auto pos = multimodal_positions(ids, ref("input.attention_mask"), {grid_}, vision_.spatial_merge_size, image_token_);
  const auto expected = ref("generate.new_tokens");
  const int64_t steps = expected.size(1), T = ids.size(1);
  KvCache cache = make_kv_cache(text_.num_hidden_layers, 1, text_.num_key_value_heads, text_.head_dim, T + steps,
                                embeds.options());
  auto hidden = decoder_->forward(embeds, pos.positions, mask, &cache);
  auto key_valid = mask;
  std::vector<torch::Tensor> step_logits;
  std::vector<int64_t> tokens;
  for (int64_t s = 0; s < steps; ++s) {
    const auto logits = torch::matmul(hidden.select(1, hidden.size(1) - 1), lm_head_.t());  // (1, V)
    step_logits.push_back(logits);
    const int64_t next = logits.argmax(-1).item<int64_t>();
    tokens.push_back(next);
    if (s + 1 == steps) break;
    const auto position = torch::full({1, 1}, T + s, torch::kInt64) + pos.deltas;  // cache position + rope delta
    key_valid = torch::cat({key_valid, torch::ones({1, 1}, torch::kBool)}, 1);
    hidden = decoder_->forward(decoder_->embed(torch::full({1, 1}, next, torch::kInt64)), position, key_valid, &cache);
  }
  EXPECT_TRUE(torch::equal(torch::tensor(tokens).unsqueeze(0), expected)) << torch::tensor(tokens) << "\nvs\n" << expected;
  EXPECT_LT(rel_error(torch::stack(step_logits), ref("generate.step_logits")), 1e-4);
}

/// The processor's patch rows as the Vlm takes one image: (1, t, h, w, patch_dim).
torch::Tensor as_grid(const torch::Tensor& rows, const GridThw& g) { return rows.reshape({1, g[0], g[1], g[2], -1}); }

TEST_P(Qwen2VlGolden, PolicyLoadsAndMatchesThroughTheVlmApi) {
  torch::NoGradGuard no_grad;
  auto vlm = Vlm::load(dir_, golden_load_options());
  EXPECT_TRUE(vlm->config().dynamic_resolution()) << vlm->config().architecture;
  const auto image = as_grid(ref("input.pixel_values"), grid_);
  EXPECT_EQ(vlm->image_tokens(image[0]), grid_[0] * grid_[1] * grid_[2] / 4);
  const VisionTrace trace = vlm->trace_vision(image, /*all_layers=*/true);
  EXPECT_LT(rel_error(trace.last_hidden_state[0], ref("vision.last_hidden_state")), golden_tolerance());
  EXPECT_LT(rel_error(trace.features[0], ref("projector.image_features")), golden_tolerance());
  const auto ids = ref("input.input_ids");
  const auto valid = ref("input.attention_mask").to(torch::kBool);
  const auto positions = vlm->positions(ids, valid, {image});
  EXPECT_TRUE(torch::equal(positions.cpu(), ref("rope.position_ids")));
  const auto hidden = vlm->decode(vlm->embed(ids, trace.features), positions, valid);
  EXPECT_LT(rel_error(vlm->logits(hidden), ref("logits")), golden_tolerance());
  // The learner's path: log-probs of the prompt's own tokens from token_logprobs equal log_softmax(logits).
  auto target = torch::ones_like(valid);
  target[0][0] = false;
  const auto lp = vlm->token_logprobs(ids, ref("input.attention_mask"), trace.features, target, 1.0, false, positions);
  const auto expect = torch::log_softmax(ref("logits").to(torch::kDouble), -1)
                          .narrow(1, 0, ids.size(1) - 1)
                          .gather(2, ids.narrow(1, 1, ids.size(1) - 1).unsqueeze(-1))
                          .squeeze(-1);
  EXPECT_LT(rel_error(lp.logprobs.narrow(1, 1, ids.size(1) - 1), expect), golden_tolerance());
}

TEST_P(Qwen2VlGolden, GenerateMatchesTransformersGreedy) {
  auto vlm = Vlm::load(dir_, golden_load_options());
  SamplingParams p;
  p.temperature = 0;
  p.max_new_tokens = ref("generate.new_tokens").size(1);
  p.keep_step_logits = true;  // transformers 4.45 stops only at max_new_tokens here: no stop ids
  const Prompt prompt{ref("input.input_ids")[0], {as_grid(ref("input.pixel_values"), grid_)}};
  const Generation g = generate(*vlm, {prompt}, 1, p);
  if (!golden_bf16()) {
    EXPECT_TRUE(torch::equal(g.tokens.cpu(), ref("generate.new_tokens"))) << g.tokens << "\nvs\n" << ref("generate.new_tokens");
  }
  EXPECT_LT(rel_error(g.step_logits, ref("generate.step_logits")), golden_tolerance());
}

TEST_P(Qwen2VlGolden, LeftPaddedBatchEqualsEachPromptAlone) {
  // Four prompts: text only, the golden image prompt, the golden prompt with a different 2x2-window image
  // (fewer tokens) spliced in, and the golden prompt with both images (small, then the golden one); left-padded
  // together, each row's greedy ids and step logits equal the prompt's own.
  auto vlm = Vlm::load(dir_);
  const auto ids = ref("input.input_ids")[0];
  const auto rows = ref("input.pixel_values");
  const int64_t per_image = grid_[0] * grid_[1] * grid_[2] / 4;
  // A smaller image: the first 2x2 merge window block row of the golden grid (t, 2, w).
  const GridThw small{grid_[0], 2, grid_[2]};
  const auto small_image = as_grid(rows.narrow(0, 0, small[1] * small[2]), small);
  const int64_t small_tokens = small[0] * small[1] * small[2] / 4;
  auto is_image = ids == image_token_;
  const int64_t first = is_image.nonzero()[0][0].item<int64_t>();
  auto small_ids = torch::cat({ids.narrow(0, 0, first), ids.narrow(0, first, small_tokens),
                               ids.narrow(0, first + per_image, ids.size(0) - first - per_image)});
  const auto& cfg = vlm->config();
  auto two_ids = torch::cat({ids.narrow(0, 0, first), ids.narrow(0, first, small_tokens),
                             torch::tensor({cfg.vision_end_token_id, cfg.vision_start_token_id}, torch::kLong),
                             ids.narrow(0, first, ids.size(0) - first)});
  std::vector<Prompt> prompts = {{ids.narrow(0, first + per_image + 1, ids.size(0) - first - per_image - 1), {}},
                                 {ids, {as_grid(rows, grid_)}},
                                 {small_ids, {small_image}},
                                 {two_ids, {small_image, as_grid(rows, grid_)}}};
  SamplingParams p;
  p.temperature = 0;
  p.max_new_tokens = 6;
  p.keep_step_logits = true;
  const Generation batch = generate(*vlm, prompts, 1, p);
  for (size_t i = 0; i < prompts.size(); ++i) {
    const Generation alone = generate(*vlm, {prompts[i]}, 1, p);
    EXPECT_TRUE(torch::equal(batch.tokens[static_cast<int64_t>(i)], alone.tokens[0])) << "prompt " << i;
    EXPECT_LT(rel_error(batch.step_logits.select(1, static_cast<int64_t>(i)), alone.step_logits.select(1, 0)), 1e-5)
        << "prompt " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Folders, Qwen2VlGolden, ::testing::ValuesIn(qwen2vl_folders()), folder_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Qwen2VlGolden);

TEST(Qwen2VlGoldenFolder, BothFamiliesAreChecked) {
  int qwen2 = 0, qwen25 = 0;
  for (const auto& dir : qwen2vl_folders()) (is_qwen25(read_json(dir + "/config.json")) ? qwen25 : qwen2)++;
  EXPECT_GT(qwen2, 0) << "no qwen2_vl model under " << golden_root();
  EXPECT_GT(qwen25, 0) << "no qwen2_5_vl model under " << SEER_REPO_GOLDEN_DIR;
}

}  // namespace
}  // namespace seer::model
