#include "model/presets.h"

#include <filesystem>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/atomic_file.h"
#include "core/check.h"
#include "model/vlm.h"

namespace seer::model {
namespace {

constexpr int64_t kByteTokens = 256;

struct PresetShape {
  int64_t image_size, patch, v_hidden, v_layers, v_heads;
  int64_t t_hidden, t_layers, t_heads, t_kv_heads, t_intermediate;
};

PresetShape shape_of(const std::string& name) {
  if (name == "tiny" || name == "tiny-qwen2vl") return {32, 8, 64, 2, 4, 128, 2, 4, 2, 384};
  if (name == "small") return {64, 8, 256, 6, 8, 512, 10, 8, 4, 1408};
  SEER_FAIL("unknown model preset '{}' (choose tiny, tiny-qwen2vl or small)", name);
}

bool is_qwen2vl(const std::string& name) { return name == "tiny-qwen2vl"; }

/// The added tokens of a preset: the byte-vocabulary ones, plus Qwen2-VL's vision tokens for its presets
/// (appended, so the `tiny` vocabulary and its random init stay as they were).
std::vector<std::string> added_tokens(const std::string& preset) {
  auto tokens = byte_vocab_added_tokens();
  if (is_qwen2vl(preset)) {
    for (const char* t : {"<|vision_start|>", "<|vision_end|>", "<|image_pad|>"}) tokens.push_back(t);
  }
  return tokens;
}

int64_t token_id(const std::string& token, const std::string& preset = "tiny") {
  const auto added = added_tokens(preset);
  for (size_t i = 0; i < added.size(); ++i) {
    if (added[i] == token) return kByteTokens + static_cast<int64_t>(i);
  }
  SEER_FAIL("no added token '{}'", token);
}

/// Qwen2VLForConditionalGeneration config.json of a preset: the decoder of `s`, a patch-grid tower of the
/// same width (14-pixel patches, 2x2 merge windows), M-RoPE sections in the 1 : 1.5 : 1.5 ratio of
/// Qwen2-VL-7B's [16, 24, 24].
nlohmann::json qwen2vl_config(const std::string& name, const PresetShape& s, int64_t vocab) {
  const int64_t half = s.t_hidden / s.t_heads / 2, t = half / 4;
  return {{"architectures", {"Qwen2VLForConditionalGeneration"}},
          {"model_type", "qwen2_vl"},
          {"vocab_size", vocab},
          {"hidden_size", s.t_hidden},
          {"intermediate_size", s.t_intermediate},
          {"num_hidden_layers", s.t_layers},
          {"num_attention_heads", s.t_heads},
          {"num_key_value_heads", s.t_kv_heads},
          {"hidden_act", "silu"},
          {"max_position_embeddings", 2048},
          {"rms_norm_eps", 1e-6},
          {"rope_theta", 10000.0},
          {"rope_scaling", {{"type", "mrope"}, {"mrope_section", {t, (half - t) / 2, half - t - (half - t) / 2}}}},
          {"tie_word_embeddings", true},
          {"use_sliding_window", false},
          {"bos_token_id", nullptr},
          {"eos_token_id", token_id("<|im_end|>", name)},
          {"pad_token_id", token_id("<|endoftext|>", name)},
          {"image_token_id", token_id("<|image_pad|>", name)},
          {"vision_start_token_id", token_id("<|vision_start|>", name)},
          {"vision_end_token_id", token_id("<|vision_end|>", name)},
          {"torch_dtype", "float32"},
          {"seer_preset", name},
          {"vision_config",
           {{"model_type", "qwen2_vl"}, {"depth", s.v_layers}, {"embed_dim", s.v_hidden}, {"num_heads", s.v_heads},
            {"mlp_ratio", 4}, {"hidden_size", s.t_hidden}, {"hidden_act", "quick_gelu"}, {"in_channels", 3},
            {"patch_size", 14}, {"spatial_merge_size", 2}, {"temporal_patch_size", 2}}}};
}

/// GPT-2's reversible byte -> printable unicode mapping (tokenizers' ByteLevel pre-tokenizer).
std::vector<std::string> byte_level_alphabet() {
  std::vector<int> bs, cs;
  for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
  cs = bs;
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    if (std::find(bs.begin(), bs.end(), b) == bs.end()) {
      bs.push_back(b);
      cs.push_back(256 + n++);
    }
  }
  std::vector<std::string> out(256);
  for (size_t i = 0; i < bs.size(); ++i) {
    const int cp = cs[i];
    std::string utf8;
    if (cp < 0x80) {
      utf8 += static_cast<char>(cp);
    } else {
      utf8 += static_cast<char>(0xC0 | (cp >> 6));
      utf8 += static_cast<char>(0x80 | (cp & 0x3F));
    }
    out[static_cast<size_t>(bs[i])] = utf8;
  }
  return out;
}

nlohmann::json tokenizer_json(const std::string& preset) {
  nlohmann::json vocab = nlohmann::json::object();
  const auto alphabet = byte_level_alphabet();
  for (int b = 0; b < 256; ++b) vocab[alphabet[static_cast<size_t>(b)]] = b;
  nlohmann::json added = nlohmann::json::array();
  const auto tokens = added_tokens(preset);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const bool special = tokens[i].rfind("<|", 0) == 0 || tokens[i] == "<image>";
    added.push_back({{"id", kByteTokens + static_cast<int64_t>(i)}, {"content", tokens[i]}, {"single_word", false},
                     {"lstrip", false}, {"rstrip", false}, {"normalized", false}, {"special", special}});
  }
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", added},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
          {"post_processor", nullptr},
          {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
          {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
                     {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
                     {"ignore_merges", false}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}};
}

}  // namespace

const std::vector<std::string>& byte_vocab_added_tokens() {
  static const std::vector<std::string> tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>",
                                                  "<think>",       "</think>",      "<answer>",   "</answer>"};
  return tokens;
}

VlmConfig preset_config(const std::string& name) {
  const PresetShape s = shape_of(name);
  const int64_t vocab = kByteTokens + static_cast<int64_t>(added_tokens(name).size());
  if (is_qwen2vl(name)) return parse_hf_config(qwen2vl_config(name, s, vocab), "preset " + name);
  nlohmann::json j = {
      {"architectures", {"LlavaForConditionalGeneration"}},
      {"model_type", "llava"},
      {"image_token_index", token_id("<image>")},
      {"projector_hidden_act", "gelu"},
      {"vision_feature_layer", -1},
      {"vision_feature_select_strategy", "default"},
      {"image_seq_length", (s.image_size / s.patch) * (s.image_size / s.patch)},
      {"pad_token_id", token_id("<|endoftext|>")},
      {"tie_word_embeddings", false},
      {"torch_dtype", "float32"},
      {"seer_preset", name},
      {"vision_config",
       {{"model_type", "clip_vision_model"}, {"hidden_size", s.v_hidden}, {"intermediate_size", 4 * s.v_hidden},
        {"num_hidden_layers", s.v_layers}, {"num_attention_heads", s.v_heads}, {"image_size", s.image_size},
        {"patch_size", s.patch}, {"num_channels", 3}, {"hidden_act", "quick_gelu"}, {"layer_norm_eps", 1e-5},
        {"projection_dim", s.v_hidden}}},
      {"text_config",
       {{"model_type", "qwen2"}, {"vocab_size", vocab}, {"hidden_size", s.t_hidden},
        {"intermediate_size", s.t_intermediate}, {"num_hidden_layers", s.t_layers},
        {"num_attention_heads", s.t_heads}, {"num_key_value_heads", s.t_kv_heads}, {"hidden_act", "silu"},
        {"max_position_embeddings", 2048}, {"rms_norm_eps", 1e-6}, {"rope_theta", 10000.0},
        {"tie_word_embeddings", true}, {"use_sliding_window", false}, {"bos_token_id", nullptr},
        {"eos_token_id", token_id("<|im_end|>")}, {"pad_token_id", token_id("<|endoftext|>")}}}};
  return parse_hf_config(j, "preset " + name);
}

void init_model(const std::string& preset, const std::string& dir, uint64_t seed, bool overwrite) {
  namespace fs = std::filesystem;
  const VlmConfig config = preset_config(preset);
  std::error_code ec;
  SEER_CHECK(overwrite || !fs::exists(dir) || fs::is_empty(dir, ec),
             "{}: folder is not empty (pass --overwrite to replace the model in it)", dir);
  auto model = Vlm::create(config, seed);
  model->save_pretrained(dir);
  write_file_atomic((fs::path(dir) / "tokenizer.json").string(), tokenizer_json(preset).dump(2) + "\n");
  // ChatML; the Qwen2-VL presets use Qwen2-VL's default system prompt (how seer recognises that family).
  const std::string chat_template =
      is_qwen2vl(preset)
          ? "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>system\\nYou "
            "are a helpful assistant.<|im_end|>\\n{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + "
            "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ "
            "'<|im_start|>assistant\\n' }}{% endif %}"
          : "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
            "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  const nlohmann::json tokenizer_config = {
      {"tokenizer_class", "PreTrainedTokenizerFast"},
      {"model_max_length", 2048},
      {"eos_token", "<|im_end|>"},
      {"pad_token", "<|endoftext|>"},
      {"bos_token", nullptr},
      {"add_bos_token", false},
      {"chat_template", chat_template}};
  write_file_atomic((fs::path(dir) / "tokenizer_config.json").string(), tokenizer_config.dump(2) + "\n");
  const int64_t size = config.vision.image_size;
  // Qwen2-VL: images resized to 56x56 at least (4x4 patches, 4 image tokens), 112x112 at most.
  const nlohmann::json qwen_preprocessor = {
      {"image_processor_type", "Qwen2VLImageProcessor"},
      {"do_resize", true},
      {"resample", 3},
      {"do_rescale", true},
      {"rescale_factor", 1.0 / 255.0},
      {"do_normalize", true},
      {"image_mean", {0.48145466, 0.4578275, 0.40821073}},
      {"image_std", {0.26862954, 0.26130258, 0.27577711}},
      {"do_convert_rgb", true},
      {"min_pixels", 56 * 56},
      {"max_pixels", 112 * 112},
      {"patch_size", 14},
      {"merge_size", 2},
      {"temporal_patch_size", 2}};
  const nlohmann::json clip_preprocessor = {
      {"image_processor_type", "CLIPImageProcessor"},
      {"do_resize", true},
      {"size", {{"shortest_edge", size}}},
      {"resample", 3},
      {"do_center_crop", true},
      {"crop_size", {{"height", size}, {"width", size}}},
      {"do_rescale", true},
      {"rescale_factor", 1.0 / 255.0},
      {"do_normalize", true},
      {"image_mean", {0.48145466, 0.4578275, 0.40821073}},
      {"image_std", {0.26862954, 0.26130258, 0.27577711}},
      {"do_convert_rgb", true}};
  write_file_atomic((fs::path(dir) / "preprocessor_config.json").string(),
                    (is_qwen2vl(preset) ? qwen_preprocessor : clip_preprocessor).dump(2) + "\n");
  int64_t params = 0;
  for (const auto& [name, t] : model->named_parameters()) params += t.numel();
  spdlog::info("wrote {} model '{}' ({:.2f} M parameters) to {}", preset, config.architecture, params / 1e6, dir);
}

}  // namespace seer::model
