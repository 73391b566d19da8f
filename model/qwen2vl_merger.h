// Qwen2-VL's PatchMerger (modeling_qwen2_vl.py v4.45): LayerNorm per patch, then each merge window of
// spatial_merge_size² adjacent patches (adjacent in the patch order of qwen2vl_patches.h) concatenated and
// mapped by Linear -> GELU (erf) -> Linear to the text hidden size: the image embeddings. Tensor names under
// "visual.merger." (ln_q, mlp.0, mlp.2). Qwen2.5-VL's merger is the same with an RMSNorm ln_q. Internal to
// model/.
#pragma once

#include "model/layers.h"
#include "model/qwen2vl_config.h"

namespace seer::model {

class Qwen2PatchMergerImpl : public torch::nn::Module {
 public:
  explicit Qwen2PatchMergerImpl(const Qwen2VisionConfig& c);
  /// x (S, E) -> (S / merge_size², out_dim). Throws seer::Error when S is not a multiple of merge_size².
  torch::Tensor forward(const torch::Tensor& x);

 private:
  int64_t window_;  // E x merge_size²
  torch::nn::LayerNorm ln_q{nullptr};
  RmsNorm rms_q{nullptr};
  Linear fc_in{nullptr}, fc_out{nullptr};
};
TORCH_MODULE(Qwen2PatchMerger);

}  // namespace seer::model
