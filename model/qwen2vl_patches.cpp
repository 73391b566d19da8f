#include "model/qwen2vl_patches.h"

#include "core/check.h"

namespace seer::model {

VisionPatches to_patches(const PixelValues& pixels, const ProcessorConfig& c, const std::string& name) {
  const int64_t P = c.patch_size, M = c.merge_size, Tp = c.temporal_patch_size, C = pixels.channels;
  const int64_t H = pixels.height, W = pixels.width;
  SEER_CHECK(P > 0 && M > 0 && Tp > 0, "{}: patch_size, merge_size and temporal_patch_size must be positive", name);
  SEER_CHECK(H > 0 && W > 0 && H % (P * M) == 0 && W % (P * M) == 0,
             "{}: a {}x{} (w x h) image cannot be cut into {}x{} merge windows of {}-pixel patches", name, W, H, M, M, P);
  SEER_CHECK(static_cast<int64_t>(pixels.values.size()) == C * H * W, "{}: {} pixel values for {}x{}x{}", name,
             pixels.values.size(), C, H, W);
  VisionPatches out;
  out.grid_t = 1;  // one image = one frame repeated Tp times = one temporal patch
  out.grid_h = H / P;
  out.grid_w = W / P;
  out.patch_dim = C * Tp * P * P;
  out.values.resize(static_cast<size_t>(out.patches() * out.patch_dim));
  // numpy: patches.reshape(t, Tp, C, gh/M, M, P, gw/M, M, P).transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
  size_t o = 0;
  for (int64_t wh = 0; wh < out.grid_h / M; ++wh) {
    for (int64_t ww = 0; ww < out.grid_w / M; ++ww) {
      for (int64_t mh = 0; mh < M; ++mh) {
        for (int64_t mw = 0; mw < M; ++mw) {
          const int64_t y0 = (wh * M + mh) * P, x0 = (ww * M + mw) * P;
          for (int64_t ch = 0; ch < C; ++ch) {
            for (int64_t t = 0; t < Tp; ++t) {  // every frame is the same image
              for (int64_t y = 0; y < P; ++y) {
                const float* row = pixels.values.data() + (ch * H + y0 + y) * W + x0;
                for (int64_t x = 0; x < P; ++x) out.values[o++] = row[x];
              }
            }
          }
        }
      }
    }
  }
  return out;
}

VisionPatches preprocess_patches(const RgbImage& image, const ProcessorConfig& config, const std::string& name) {
  SEER_CHECK(config.dynamic_resolution(), "{}: {} does not cut images into patches (Qwen2VLImageProcessor does)", name,
             config.type);
  return to_patches(preprocess(image, config, name), config, name);
}

}  // namespace seer::model
