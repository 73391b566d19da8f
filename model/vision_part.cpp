#include "model/vision_part.h"

namespace seer::model {

std::unique_ptr<VisionPart> make_llava_vision(const VlmConfig& config, torch::nn::Module& root);
std::unique_ptr<VisionPart> make_qwen2vl_vision(const VlmConfig& config, torch::nn::Module& root);

std::unique_ptr<VisionPart> make_vision_part(const VlmConfig& config, torch::nn::Module& root) {
  if (!config.has_vision) return nullptr;
  if (config.dynamic_resolution()) return make_qwen2vl_vision(config, root);
  return make_llava_vision(config, root);
}

torch::Tensor sequential_positions(const torch::Tensor& valid) {
  return (valid.to(torch::kLong).cumsum(1) - 1).clamp_min(0);
}

}  // namespace seer::model
