// LLaVA's vision part (modeling_llava.py v4.45): CLIP or SigLIP tower (vision_tower.h), the hidden state of
// vision_feature_layer (CLS dropped for strategy "default"), projector linear_1 -> act -> linear_2.
#include <fmt/ranges.h>

#include "core/check.h"
#include "model/vision_part.h"
#include "model/vision_tower.h"
#include "model/vlm.h"

namespace seer::model {
namespace {

class LlavaVision : public VisionPart {
 public:
  LlavaVision(const VlmConfig& c, torch::nn::Module& root) : c_(c) {
    auto tower = root.register_module("vision_tower", std::make_shared<torch::nn::Module>());
    vision_ = tower->register_module("vision_model", VisionTransformer(c.vision));
    auto proj = root.register_module("multi_modal_projector", std::make_shared<torch::nn::Module>());
    linear_1_ = proj->register_module("linear_1", Linear(c.vision.hidden_size, c.text.hidden_size));
    linear_2_ = proj->register_module("linear_2", Linear(c.text.hidden_size, c.text.hidden_size));
  }

  void trace(const torch::Tensor& pixel_values, bool all_layers, VisionTrace& out) override {
    const VisionConfig& v = c_.vision;
    SEER_CHECK(pixel_values.dim() == 4 && pixel_values.size(1) == v.num_channels && pixel_values.size(2) == v.image_size &&
                   pixel_values.size(3) == v.image_size,
               "pixel_values must be (N, {}, {}, {}), got {}", v.num_channels, v.image_size, v.image_size,
               fmt::format("{}", fmt::join(pixel_values.sizes(), "x")));
    const int64_t L = v.num_hidden_layers;
    const int64_t layer = c_.vision_feature_layer < 0 ? L + 1 + c_.vision_feature_layer : c_.vision_feature_layer;
    out.hidden_states = vision_->hidden_states(pixel_values, all_layers ? L : layer);
    if (all_layers) out.last_hidden_state = vision_->last_hidden_state(out.hidden_states.back());
    auto selected = out.hidden_states[static_cast<size_t>(layer)];
    if (c_.vision_feature_select_strategy == "default" && v.class_token()) {
      selected = selected.narrow(1, 1, selected.size(1) - 1);
    }
    out.selected = selected;
  }

  torch::Tensor project(const torch::Tensor& selected) override {
    return linear_2_(activation(c_.projector_hidden_act, linear_1_(selected)));
  }

  int64_t image_tokens(const torch::Tensor&) const override { return c_.image_feature_count(); }

  torch::Tensor positions(const torch::Tensor&, const torch::Tensor& valid,
                          const std::vector<torch::Tensor>&) const override {
    return sequential_positions(valid);
  }

 private:
  VlmConfig c_;
  VisionTransformer vision_{nullptr};
  Linear linear_1_{nullptr}, linear_2_{nullptr};
};

}  // namespace

std::unique_ptr<VisionPart> make_llava_vision(const VlmConfig& config, torch::nn::Module& root) {
  return std::make_unique<LlavaVision>(config, root);
}

}  // namespace seer::model
