// Hugging Face image processors, read from preprocessor_config.json: CLIPImageProcessor (resize the
// shortest edge, center crop, rescale, normalize) and SiglipImageProcessor (resize to a fixed size, rescale,
// normalize). The resize reproduces PIL's bicubic resampling (Pillow 9.4 libImaging/Resample.c: separable
// passes, antialiasing support scaled on downsampling, 22-bit fixed-point coefficients, uint8 rounding
// between passes), which is what transformers' processors call. Also Qwen2-VL's smart_resize.
// Pure C++ (no LibTorch): the caller turns pixel values into a tensor.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "model/image_decode.h"

namespace seer::model {

/// PIL Image.resize(size, BICUBIC) of an RGB image to `width` x `height`.
RgbImage resize_bicubic(const RgbImage& image, int width, int height);

struct ProcessorConfig {
  std::string type;                      ///< "CLIPImageProcessor" | "SiglipImageProcessor" | "Qwen2VLImageProcessor"
  bool do_resize = true, do_center_crop = false, do_rescale = true, do_normalize = true;
  int shortest_edge = 0;                 ///< CLIP: size.shortest_edge
  int resize_height = 0, resize_width = 0;  ///< SigLIP: size.height / size.width
  int crop_height = 0, crop_width = 0;
  double rescale_factor = 1.0 / 255.0;
  std::array<double, 3> mean{0.5, 0.5, 0.5}, std{0.5, 0.5, 0.5};
  // Qwen2-VL (image_processing_qwen2_vl.py): smart_resize bounds and the patch grid.
  int64_t min_pixels = 56 * 56, max_pixels = 28 * 28 * 1280;
  int patch_size = 14, merge_size = 2, temporal_patch_size = 2;
  bool dynamic_resolution() const { return type == "Qwen2VLImageProcessor"; }
};

/// Reads `dir`/preprocessor_config.json. Throws seer::Error naming the file and key for unsupported
/// processors or options (e.g. a resample other than bicubic).
ProcessorConfig load_processor_config(const std::string& dir);

struct PixelValues {
  int channels = 3, height = 0, width = 0;
  std::vector<float> values;  ///< channels x height x width (CHW), normalised
};

/// The processor applied to one decoded image. Qwen2-VL: resized to smart_resize's size (a multiple of
/// patch_size x merge_size), not yet cut into patches (qwen2vl_patches.h does that); `name` is used in errors.
PixelValues preprocess(const RgbImage& image, const ProcessorConfig& config, const std::string& name = "image");

/// Qwen2-VL smart_resize (image_processing_qwen2_vl.py; factor = patch_size x merge_size, 28): the (height, width) to resize to.
/// Throws seer::Error when the aspect ratio exceeds 200 (message names `name` and its size).
std::array<int, 2> smart_resize(int height, int width, int64_t min_pixels, int64_t max_pixels,
                                const std::string& name = "image", int factor = 28);

}  // namespace seer::model
