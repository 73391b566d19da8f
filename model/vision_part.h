// The image side of a VLM family, the one place where families differ inside Vlm (the llama.cpp way: one
// implementation per architecture, chosen once when the model is built):
//   LLaVA     (llava_vision.cpp):  CLIP/SigLIP tower -> feature layer -> 2-layer MLP projector; images are
//                                  (N, 3, S, S) pixel tensors; 1-D positions.
//   Qwen2-VL  (qwen2vl_vision_part.cpp): patch-grid tower -> PatchMerger; an image is the processor's
//                                  (t·h·w, patch_dim) patch rows viewed as (t, h, w, patch_dim), so the
//                                  grid travels in the shape (rows keep the processor's merge-window order);
//                                  a batch of same-size images is (N, t, h, w, patch_dim); M-RoPE positions.
// Internal to model/ (Vlm holds one).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "model/hf_config.h"

namespace seer::model {

struct VisionTrace;

class VisionPart {
 public:
  virtual ~VisionPart() = default;
  /// The vision tower on a batch of images (shape per family, see above): hidden states (all of them with
  /// `all_layers`), the selected features (N, F, D_v) the projector takes, and `features` left undefined.
  /// Throws seer::Error naming the expected shape.
  virtual void trace(const torch::Tensor& images, bool all_layers, VisionTrace& out) = 0;
  /// Projector: selected features (N, F, D_v) -> image features (N, F', D).
  virtual torch::Tensor project(const torch::Tensor& selected) = 0;
  /// Image tokens the prompt holds for one image tensor (one image, no batch dimension for Qwen2-VL; LLaVA
  /// takes (1, 3, S, S) or (3, S, S)).
  virtual int64_t image_tokens(const torch::Tensor& image) const = 0;
  /// Decoder position ids of left- or right-padded rows: ids (B, T) int64, valid (B, T) bool, the images of
  /// the batch in reading order. (B, T) for 1-D RoPE, (3, B, T) for M-RoPE. Throws seer::Error when the image
  /// tokens and the images disagree.
  virtual torch::Tensor positions(const torch::Tensor& ids, const torch::Tensor& valid,
                                  const std::vector<torch::Tensor>& images) const = 0;
};

/// The family's vision part, its modules registered in `root` under the Hugging Face names.
std::unique_ptr<VisionPart> make_vision_part(const VlmConfig& config, torch::nn::Module& root);

/// 1-D positions of padded rows: the running count of valid tokens - 1 (0 on leading padding).
torch::Tensor sequential_positions(const torch::Tensor& valid);

}  // namespace seer::model
