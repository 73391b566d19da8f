// Qwen2-VL's vision part (modeling_qwen2_vl.py v4.45): the patch-grid tower (qwen2vl_vision.h) and the
// PatchMerger (qwen2vl_merger.h) under "visual.", and the M-RoPE position ids (mrope.h).
#include <fmt/ranges.h>

#include "core/check.h"
#include "model/mrope.h"
#include "model/qwen2vl_merger.h"
#include "model/qwen2vl_vision.h"
#include "model/vision_part.h"
#include "model/vlm.h"

namespace seer::model {
namespace {

class Qwen2VlVision : public VisionPart {
 public:
  Qwen2VlVision(const VlmConfig& c, torch::nn::Module& root) : c_(c) {
    tower_ = root.register_module("visual", Qwen2VisionTower(c.qwen_vision));
    merger_ = tower_->register_module("merger", Qwen2PatchMerger(c.qwen_vision));
  }

  /// images (N, t, h, w, patch_dim): N images of one grid.
  void trace(const torch::Tensor& images, bool, VisionTrace& out) override {
    const auto& v = c_.qwen_vision;
    SEER_CHECK(images.dim() == 5 && images.size(4) == v.patch_dim(),
               "Qwen2-VL images must be (N, t, h, w, {}) patch grids (qwen2vl_patches.h), got {}", v.patch_dim(),
               fmt::format("{}", fmt::join(images.sizes(), "x")));
    const int64_t N = images.size(0), F = images.size(1) * images.size(2) * images.size(3);
    const std::vector<GridThw> grids(static_cast<size_t>(N), GridThw{images.size(1), images.size(2), images.size(3)});
    std::vector<torch::Tensor> states;
    tower_->forward(images.reshape({N * F, v.patch_dim()}), grids, &states);
    for (auto& s : states) out.hidden_states.push_back(s.view({N, F, v.embed_dim}));
    out.last_hidden_state = out.hidden_states.back();
    out.selected = out.hidden_states.back();
  }

  torch::Tensor project(const torch::Tensor& selected) override {
    const int64_t window = c_.qwen_vision.spatial_merge_size * c_.qwen_vision.spatial_merge_size;
    auto merged = merger_->forward(selected.reshape({-1, c_.qwen_vision.embed_dim}));
    if (selected.dim() != 3) return merged;
    return merged.view({selected.size(0), selected.size(1) / window, merged.size(-1)});
  }

  int64_t image_tokens(const torch::Tensor& image) const override {
    const int64_t m = c_.qwen_vision.spatial_merge_size;
    const auto g = grid_of(image);
    return g[0] * g[1] * g[2] / (m * m);
  }

  torch::Tensor positions(const torch::Tensor& ids, const torch::Tensor& valid,
                          const std::vector<torch::Tensor>& images) const override {
    std::vector<GridThw> grids;
    for (const auto& image : images) {
      const int64_t n = image.dim() == 5 ? image.size(0) : 1;
      for (int64_t i = 0; i < n; ++i) grids.push_back(grid_of(image));
    }
    return multimodal_positions(ids, valid.to(torch::kLong), grids, c_.qwen_vision.spatial_merge_size,
                                c_.image_token_index)
        .positions;
  }

 private:
  /// (t, h, w) of an image tensor (t, h, w, patch_dim) or (n, t, h, w, patch_dim).
  GridThw grid_of(const torch::Tensor& image) const {
    SEER_CHECK((image.dim() == 4 || image.dim() == 5) && image.size(-1) == c_.qwen_vision.patch_dim(),
               "a Qwen2-VL image must be a (t, h, w, {}) patch grid, got {}", c_.qwen_vision.patch_dim(),
               fmt::format("{}", fmt::join(image.sizes(), "x")));
    const int64_t o = image.dim() - 4;
    return {image.size(o), image.size(o + 1), image.size(o + 2)};
  }

  VlmConfig c_;
  Qwen2VisionTower tower_{nullptr};
  Qwen2PatchMerger merger_{nullptr};
};

}  // namespace

std::unique_ptr<VisionPart> make_qwen2vl_vision(const VlmConfig& config, torch::nn::Module& root) {
  return std::make_unique<Qwen2VlVision>(config, root);
}

}  // namespace seer::model
