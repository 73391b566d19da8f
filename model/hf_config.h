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

#include "model/qwen2vl_config.h"

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
  std::vector<int64_t> mrope_section;  ///< Qwen2-VL M-RoPE (t, h, w) rotary pairs; empty = 1-D RoPE
};

struct VlmConfig {
  std::string architecture;        ///< "LlavaForConditionalGeneration" | "Qwen2VLForConditionalGeneration" |
                                   ///< "Qwen2_5_VLForConditionalGeneration" | "LlamaForCausalLM" | "Qwen2ForCausalLM"
  bool has_vision = false;
  VisionConfig vision;             ///< LLaVA's CLIP/SigLIP tower
  Qwen2VisionConfig qwen_vision;   ///< Qwen2-VL's / Qwen2.5-VL's tower and merger
  int64_t vision_start_token_id = -1, vision_end_token_id = -1;  ///< Qwen2-VL <|vision_start|>, <|vision_end|>
  TextConfig text;
  std::string projector_hidden_act = "gelu";
  int64_t vision_feature_layer = -2;
  std::string vision_feature_select_strategy = "default";  ///< "default" drops the CLS feature, "full" keeps all
  int64_t image_token_index = -1;
  nlohmann::json raw;              ///< the file as read, written back by save_pretrained

  /// Qwen2-VL: images of any size, as patch grids; the image token count depends on the image.
  bool dynamic_resolution() const {
    return architecture == "Qwen2VLForConditionalGeneration" || architecture == "Qwen2_5_VLForConditionalGeneration";
  }
  /// Image features per image: patches (+1 for CLS with strategy "full" on CLIP). Fixed-size towers only
  /// (0 for Qwen2-VL, whose count depends on the image).
  int64_t image_feature_count() const;
  /// Prefix of tensor names of the language model: "language_model." for LLaVA, "" for text-only and Qwen2-VL.
  std::string text_prefix() const { return has_vision && !dynamic_resolution() ? "language_model." : ""; }
  /// Hugging Face name prefixes of the vision tower's and of the projector's parameters (freezing, learning rates).
  std::vector<std::string> vision_tower_prefixes() const;
  std::vector<std::string> projector_prefixes() const;
};

/// Parses `dir`/config.json (and eos ids from generation_config.json when present). Throws seer::Error
/// naming the file and the key for anything missing, malformed or unsupported.
VlmConfig load_hf_config(const std::string& dir);

/// The decoder keys of a text config object (llama, qwen2; qwen2_vl with its rope_scaling.mrope_section).
/// Throws seer::Error naming `where` and the key for anything missing, malformed or unsupported.
TextConfig parse_text_config(const nlohmann::json& j, const std::string& where);

/// Parses a config.json object; `where` names it in errors.
VlmConfig parse_hf_config(const nlohmann::json& j, const std::string& where);

}  // namespace seer::model
