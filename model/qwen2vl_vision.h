// Qwen2-VL's vision tower (modeling_qwen2_vl.py v4.45, Qwen2VisionTransformerPretrainedModel without the
// merger): Conv3d patch embedding of flattened temporal x spatial patches, 2-D rotary embeddings (row and
// column angles per patch), pre-LayerNorm blocks with fused qkv whose attention stays inside each frame of
// each image (cu_seqlens). Images of any size go in together as one sequence of patches. Tensor names follow
// Hugging Face under "visual.". Internal to model/. Legend: S patches of all images, E embed_dim, d head dim.
// Qwen2.5-VL's tower (modeling_qwen2_5_vl.py v4.49) is the same with RMSNorm, a gated biased MLP and, in all
// blocks but fullatt_block_indexes, attention only within windows of window_size pixels (the patches are
// regrouped window by window for the blocks and put back in patch order at the end, so the merger and
// everything after see the same order as Qwen2-VL).
#pragma once

#include <array>
#include <vector>

#include "model/layers.h"
#include "model/qwen2vl_config.h"

namespace seer::model {

/// image_grid_thw of one image: (frames / temporal_patch_size, patch rows, patch columns).
using GridThw = std::array<int64_t, 3>;

/// VisionRotaryEmbedding + rot_pos_emb: per patch, the rotary angles (S, d/2) float32: d/4 row angles, then
/// d/4 column angles, positions ordered by merge window as the patches are (qwen2vl_patches.h).
torch::Tensor vision_rotary_angles(const std::vector<GridThw>& grids, int64_t head_dim, int64_t merge_size,
                                   double theta);

/// The (S, S) bool mask of attention limited to each frame of each image (the cu_seqlens blocks).
torch::Tensor frame_block_mask(const std::vector<GridThw>& grids, const torch::TensorOptions& options);

/// Qwen2.5-VL get_window_index: the order of the merge units (groups of merge² patches) window by window
/// (frame, window row, window column, row, column; windows of `window_units`² units) and each unit's window.
struct WindowOrder {
  std::vector<int64_t> unit_order;  ///< position p of the windowed sequence holds merge unit unit_order[p]
  std::vector<int64_t> window;      ///< window id of position p
};
WindowOrder window_order(const std::vector<GridThw>& grids, int64_t merge_size, int64_t window_units);

class Qwen2VisionBlockImpl : public torch::nn::Module {
 public:
  explicit Qwen2VisionBlockImpl(const Qwen2VisionConfig& c);
  /// x (S, E); angles (S, d/2) from vision_rotary_angles; allowed (S, S) bool. Returns (S, E).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& angles, const torch::Tensor& allowed);

 private:
  Qwen2VisionConfig c_;
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};  // Qwen2-VL
  RmsNorm rms1{nullptr}, rms2{nullptr};                 // Qwen2.5-VL (same HF names norm1, norm2)
  Linear qkv{nullptr}, proj{nullptr};
  Linear fc1{nullptr}, fc2{nullptr};                         // Qwen2-VL MLP
  Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};  // Qwen2.5-VL gated MLP
};
TORCH_MODULE(Qwen2VisionBlock);

/// "visual" minus "merger": patch_embed.proj, blocks.*.
class Qwen2VisionTowerImpl : public torch::nn::Module {
 public:
  explicit Qwen2VisionTowerImpl(const Qwen2VisionConfig& c);
  /// patches (S, patch_dim) of the images in `grids` order -> last hidden state (S, E). `states` receives the
  /// patch embedding and each block's output when given. Throws seer::Error when S differs from the grids'.
  torch::Tensor forward(const torch::Tensor& patches, const std::vector<GridThw>& grids,
                        std::vector<torch::Tensor>* states = nullptr);
  const Qwen2VisionConfig& config() const { return c_; }

 private:
  Qwen2VisionConfig c_;
  torch::Tensor patch_weight;  // patch_embed.proj.weight (E, C, Tp, P, P), no bias
  torch::nn::ModuleList blocks{nullptr};
};
TORCH_MODULE(Qwen2VisionTower);

}  // namespace seer::model
