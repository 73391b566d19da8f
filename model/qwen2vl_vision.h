// Qwen2-VL's vision tower (modeling_qwen2_vl.py v4.45, Qwen2VisionTransformerPretrainedModel without the
// merger): Conv3d patch embedding of flattened temporal x spatial patches, 2-D rotary embeddings (row and
// column angles per patch), pre-LayerNorm blocks with fused qkv whose attention stays inside each frame of
// each image (cu_seqlens). Images of any size go in together as one sequence of patches. Tensor names follow
// Hugging Face under "visual.". Internal to model/. Legend: S patches of all images, E embed_dim, d head dim.
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

class Qwen2VisionBlockImpl : public torch::nn::Module {
 public:
  explicit Qwen2VisionBlockImpl(const Qwen2VisionConfig& c);
  /// x (S, E); angles (S, d/2) from vision_rotary_angles; allowed (S, S) bool. Returns (S, E).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& angles, const torch::Tensor& allowed);

 private:
  Qwen2VisionConfig c_;
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Linear qkv{nullptr}, proj{nullptr}, fc1{nullptr}, fc2{nullptr};
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
