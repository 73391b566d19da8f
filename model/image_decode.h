// Decoding image files into 8-bit RGB (rows top to bottom, HWC), the way the reference processors see
// them: JPEG through libjpeg-turbo as Pillow decodes it (model/jpeg_decode.h: baseline, progressive, CMYK
// with the Adobe convention), PNG (grey, grey+alpha, palette with tRNS, 16-bit: v >> 8), BMP and GIF (first
// frame) through stb_image; EXIF Orientation 2-8 from JPEG APP1
// and PNG eXIf applied (libexif; a missing or corrupt tag means 1, never an error); alpha composited over
// white or dropped. Never aborts a batch: every failure is a seer::Error naming the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace seer::model {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  ///< height x width x 3
  const uint8_t* at(int x, int y) const { return &pixels[(static_cast<size_t>(y) * width + x) * 3]; }
};

/// `image.alpha` in the config: composite transparency over white (default) or drop it (PIL convert("RGB")).
enum class AlphaMode { kWhite, kDrop };

struct DecodeLimits {
  int64_t max_pixels = 64 << 20;       ///< width x height after decoding (checked from the header first)
  int64_t max_file_bytes = 64 << 20;
};

/// Decodes the file at `path`. Throws seer::Error naming `path`: missing, too large, not an image,
/// truncated (a JPEG without end-of-image marker after its last scan, a PNG whose data ends early),
/// zero-sized, or over the limits.
RgbImage decode_image_file(const std::string& path, AlphaMode alpha = AlphaMode::kWhite, const DecodeLimits& limits = {});

/// Same, from bytes in memory; `name` is used in errors.
RgbImage decode_image(std::string_view bytes, const std::string& name, AlphaMode alpha = AlphaMode::kWhite,
                      const DecodeLimits& limits = {});

/// EXIF Orientation (1-8) of a JPEG (APP1 "Exif") or PNG (eXIf chunk); 1 when absent, invalid or corrupt.
int exif_orientation(std::string_view bytes);

/// `image` transformed for display according to EXIF `orientation` (as PIL's ImageOps.exif_transpose).
RgbImage apply_orientation(const RgbImage& image, int orientation);

}  // namespace seer::model
