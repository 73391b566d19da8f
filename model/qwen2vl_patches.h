// Qwen2-VL's vision input: a processed image cut into flattened temporal x spatial patches, in the order
// the vision tower and its PatchMerger expect (image_processing_qwen2_vl.py `_preprocess`, v4.45: a single
// image repeated to temporal_patch_size frames; patches ordered by merge window, 2x2 neighbours adjacent).
// Pure C++ (no LibTorch), like image_processor.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/image_decode.h"
#include "model/image_processor.h"

namespace seer::model {

struct VisionPatches {
  int64_t grid_t = 0, grid_h = 0, grid_w = 0;  ///< image_grid_thw: frames / temporal_patch_size, rows, columns of patches
  int64_t patch_dim = 0;                       ///< channels x temporal_patch_size x patch_size²
  std::vector<float> values;                   ///< (grid_t·grid_h·grid_w, patch_dim) row-major
  int64_t patches() const { return grid_t * grid_h * grid_w; }
  /// Image tokens in the prompt (<|image_pad|> count): patches / merge_size².
  int64_t tokens(int merge_size) const { return patches() / (static_cast<int64_t>(merge_size) * merge_size); }
};

/// Cuts `pixels` (the output of preprocess() with a Qwen2VLImageProcessor config: C x H x W, H and W
/// multiples of patch_size x merge_size) into patches. Feature order within a patch is (channel, frame,
/// row, column); patch order is (frame, window row, window column, row in window, column in window).
/// Throws seer::Error naming `name` when the size is not a multiple of the merge window.
VisionPatches to_patches(const PixelValues& pixels, const ProcessorConfig& config, const std::string& name = "image");

/// preprocess() then to_patches(): what Qwen2VLImageProcessor returns for one image (pixel_values rows and
/// image_grid_thw).
VisionPatches preprocess_patches(const RgbImage& image, const ProcessorConfig& config, const std::string& name = "image");

}  // namespace seer::model
