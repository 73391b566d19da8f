// Hugging Face config.json for the models seer supports: LlavaForConditionalGeneration (vision tower
// clip_vision_model or siglip_vision_model, text model llama or qwen2) and text-only LlamaForCausalLM /
// Qwen2ForCausalLM. Mirrors transformers' configuration_llava.py, configuration_clip.py,
// configuration_siglip.py, configuration_llama.py and configuration_qwen2.py (v4.45). Anything seer
// cannot reproduce exactly (rope scaling, sliding windows, other activations) is refused by name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace seer::model {

struct VisionConfig {
  std::string model_type;          ///< "clip_vision_model" | "siglip_vision_model"
  int64_t hidden_size = 0, intermediate_size = 0, num_hidden_layers = 0, num_attention_heads = 0;
  int64_t image_size = 0, patch_size = 0, num_channels = 3;
  double layer_norm_eps = 1e-5;
  std::string hidden_act;          ///< "quick_gelu" | "gelu_pytorch_tanh" | "gelu"
  bool class_token() const { return model_type == "clip_vision_model"; }
  int64_t num_patches() const { return (image_size / patch_size) * (image_size / patch_size); }
};

struct TextConfig {
  std::string model_type;          ///< "llama" | "qwen2"
  int64_t vocab_size = 0, hidden_size = 0, intermediate_size = 0, num_hidden_layers = 0;
  int64_t num_attention_heads = 0, num_key_value_heads = 0, head_dim = 0, max_position_embeddings = 0;
  double rms_norm_eps = 1e-6, rope_theta = 10000.0;
  bool attention_bias = false;     ///< q/k/v biases (qwen2: always)
  bool mlp_bias = false;
  bool tie_word_embeddings = false;
  int64_t bos_token_id = -1, pad_token_id = -1;
  std::vector<int64_t> eos_token_ids;
};

struct VlmConfig {
  std::string architecture;        ///< "LlavaForConditionalGeneration" | "LlamaForCausalLM" | "Qwen2ForCausalLM"
  bool has_vision = false;
  VisionConfig vision;
  TextConfig text;
  std::string projector_hidden_act = "gelu";
  int64_t vision_feature_layer = -2;
  std::string vision_feature_select_strategy = "default";  ///< "default" drops the CLS feature, "full" keeps all
  int64_t image_token_index = -1;
  nlohmann::json raw;              ///< the file as read, written back by save_pretrained

  /// Image features per image: patches (+1 for CLS with strategy "full" on CLIP).
  int64_t image_feature_count() const;
  /// Prefix of tensor names of the language model: "language_model." for LLaVA, "" for text-only.
  std::string text_prefix() const { return has_vision ? "language_model." : ""; }
};

/// Parses `dir`/config.json (and eos ids from generation_config.json when present). Throws seer::Error
/// naming the file and the key for anything missing, malformed or unsupported.
VlmConfig load_hf_config(const std::string& dir);

/// Parses a config.json object; `where` names it in errors.
VlmConfig parse_hf_config(const nlohmann::json& j, const std::string& where);

}  // namespace seer::model
