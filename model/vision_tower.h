// The vision tower: CLIP ViT (class token, pre-layernorm, quick_gelu) or SigLIP ViT (no class token,
// gelu-tanh), with Hugging Face tensor names under "vision_model." (modeling_clip.py CLIPVisionTransformer,
// modeling_siglip.py SiglipVisionTransformer, v4.45). Internal to model/.
#pragma once

#include <vector>

#include "model/hf_config.h"
#include "model/layers.h"

namespace seer::model {

class VisionEncoderLayerImpl : public torch::nn::Module {
 public:
  explicit VisionEncoderLayerImpl(const VisionConfig& c);
  torch::Tensor forward(const torch::Tensor& x);  ///< (B, T, D) -> (B, T, D)

 private:
  VisionConfig c_;
  torch::nn::LayerNorm layer_norm1{nullptr}, layer_norm2{nullptr};
  Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr}, fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(VisionEncoderLayer);

/// "vision_model": embeddings, [pre_layrnorm], encoder.layers.*, post_layernorm.
class VisionTransformerImpl : public torch::nn::Module {
 public:
  explicit VisionTransformerImpl(const VisionConfig& c);
  /// pixel_values (B, 3, S, S) float -> hidden states 0..`upto` (each (B, T, D); T = patches [+1 CLS]);
  /// state 0 is the embeddings (after pre_layrnorm for CLIP), state i the output of encoder layer i-1.
  std::vector<torch::Tensor> hidden_states(const torch::Tensor& pixel_values, int64_t upto);
  /// transformers' last_hidden_state from the last encoder output: SigLIP applies post_layernorm,
  /// CLIP does not (it normalises only the pooled CLS output).
  torch::Tensor last_hidden_state(const torch::Tensor& encoder_output);

 private:
  VisionConfig c_;
  torch::Tensor class_embedding;  // CLIP only
  torch::nn::Conv2d patch_embedding{nullptr};
  torch::nn::Embedding position_embedding{nullptr};
  torch::nn::LayerNorm pre_layrnorm{nullptr}, post_layernorm{nullptr};
  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(VisionTransformer);

}  // namespace seer::model
