// The vision part of a Qwen2-VL or Qwen2.5-VL config.json ("vision_config": configuration_qwen2_vl.py v4.45,
// configuration_qwen2_5_vl.py v4.49, whose defaults fill absent keys) and the text model's multimodal rotary
// sections (rope_scaling.mrope_section).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace seer::model {

struct Qwen2VisionConfig {
  int64_t depth = 32, embed_dim = 1280, num_heads = 16;
  int64_t mlp_hidden = 5120;        ///< embed_dim x mlp_ratio
  int64_t out_dim = 3584;           ///< PatchMerger output = text hidden size (vision_config.hidden_size)
  int64_t in_channels = 3, patch_size = 14, spatial_merge_size = 2, temporal_patch_size = 2;
  std::string hidden_act = "quick_gelu";
  double layer_norm_eps = 1e-6;     ///< fixed in modeling_qwen2_vl.py
  double rope_theta = 10000.0;      ///< VisionRotaryEmbedding default
  // Qwen2.5-VL: RMSNorm, gated (SwiGLU-style, biased) MLP, attention in windows of window_size pixels except
  // in the full-attention blocks.
  bool rms_norm = false, gated_mlp = false;
  int64_t window_size = 0;                       ///< pixels; 0 = every block attends to the whole frame
  std::vector<int64_t> fullatt_block_indexes;
  int64_t head_dim() const { return embed_dim / num_heads; }
  int64_t patch_dim() const { return in_channels * temporal_patch_size * patch_size * patch_size; }
};

/// Parses `vision_config` of a qwen2_vl config (or of a qwen2_5_vl one with `v25`); `where` names it in
/// errors. Throws seer::Error for a wrong type, a head count that does not divide embed_dim, a rotary dimension
/// that is not a multiple of 4, or a window that is not a whole number of merge windows.
Qwen2VisionConfig parse_qwen2_vision_config(const nlohmann::json& j, const std::string& where, bool v25 = false);

/// rope_scaling.mrope_section of a qwen2_vl text config: (t, h, w) rotary pairs, summing to head_dim / 2.
/// Throws seer::Error naming `where` when absent, not 3 values or the wrong sum.
std::vector<int64_t> parse_mrope_section(const nlohmann::json& config, int64_t head_dim, const std::string& where);

}  // namespace seer::model
