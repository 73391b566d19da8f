#include "model/qwen2vl_config.h"

#include <numeric>

#include "core/check.h"
#include "core/json_get.h"

namespace seer::model {

Qwen2VisionConfig parse_qwen2_vision_config(const nlohmann::json& j, const std::string& where, bool v25) {
  SEER_CHECK(j.is_object(), "{}: vision_config must be an object", where);
  Qwen2VisionConfig c;
  c.depth = json_get_or<int64_t>(j, "depth", c.depth, where);
  if (v25) {
    // Qwen2.5-VL names the block width hidden_size and the merger output out_hidden_size.
    c.embed_dim = json_get_or<int64_t>(j, "hidden_size", 3584, where);
    c.mlp_hidden = json_get_or<int64_t>(j, "intermediate_size", 3420, where);
    c.out_dim = json_get_or<int64_t>(j, "out_hidden_size", 3584, where);
    c.hidden_act = "silu";
    c.rms_norm = c.gated_mlp = true;
    c.window_size = json_get_or<int64_t>(j, "window_size", 112, where);
    c.fullatt_block_indexes = json_get_or<std::vector<int64_t>>(j, "fullatt_block_indexes", {7, 15, 23, 31}, where);
  } else {
    c.embed_dim = json_get_or<int64_t>(j, "embed_dim", c.embed_dim, where);
    c.mlp_hidden = static_cast<int64_t>(static_cast<double>(c.embed_dim) * json_get_or<double>(j, "mlp_ratio", 4.0, where));
    c.out_dim = json_get_or<int64_t>(j, "hidden_size", c.out_dim, where);
  }
  c.num_heads = json_get_or<int64_t>(j, "num_heads", c.num_heads, where);
  c.in_channels = json_get_or<int64_t>(j, "in_channels", json_get_or<int64_t>(j, "in_chans", c.in_channels, where), where);
  c.patch_size = json_get_or<int64_t>(j, "patch_size", c.patch_size, where);
  c.spatial_merge_size = json_get_or<int64_t>(j, "spatial_merge_size", c.spatial_merge_size, where);
  c.temporal_patch_size = json_get_or<int64_t>(j, "temporal_patch_size", c.temporal_patch_size, where);
  c.hidden_act = json_get_or<std::string>(j, "hidden_act", c.hidden_act, where);
  SEER_CHECK(c.depth > 0 && c.embed_dim > 0 && c.num_heads > 0 && c.out_dim > 0 && c.patch_size > 0 &&
                 c.spatial_merge_size > 0 && c.temporal_patch_size > 0 && c.in_channels > 0,
             "{}: depth, embed_dim, num_heads, hidden_size and patch sizes must be positive", where);
  SEER_CHECK(c.embed_dim % c.num_heads == 0, "{}: embed_dim {} is not a multiple of num_heads {}", where, c.embed_dim,
             c.num_heads);
  SEER_CHECK(c.head_dim() % 4 == 0, "{}: head dim {} must be a multiple of 4 (2-D rotary: h and w halves)", where,
             c.head_dim());
  SEER_CHECK(c.window_size == 0 || c.window_size % (c.patch_size * c.spatial_merge_size) == 0,
             "{}: window_size {} is not a whole number of {}-pixel merge windows", where, c.window_size,
             c.patch_size * c.spatial_merge_size);
  for (int64_t b : c.fullatt_block_indexes) {
    SEER_CHECK(b >= 0 && b < c.depth, "{}: fullatt_block_indexes holds {}, outside the {} blocks", where, b, c.depth);
  }
  return c;
}

std::vector<int64_t> parse_mrope_section(const nlohmann::json& config, int64_t head_dim, const std::string& where) {
  SEER_CHECK(config.contains("rope_scaling") && config["rope_scaling"].is_object() &&
                 config["rope_scaling"].contains("mrope_section"),
             "{}: rope_scaling.mrope_section is missing (Qwen2-VL's multimodal rotary sections)", where);
  const auto section = json_get_or<std::vector<int64_t>>(config["rope_scaling"], "mrope_section", {}, where + " rope_scaling");
  SEER_CHECK(section.size() == 3, "{}: rope_scaling.mrope_section needs 3 values (t, h, w), got {}", where,
             section.size());
  const int64_t sum = std::accumulate(section.begin(), section.end(), int64_t{0});
  SEER_CHECK(sum * 2 == head_dim, "{}: rope_scaling.mrope_section sums to {}, expected head_dim / 2 = {}", where, sum,
             head_dim / 2);
  return section;
}

}  // namespace seer::model
