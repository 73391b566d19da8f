// libFuzzer target for image decoding (model/image_decode.h): JPEG through libjpeg-turbo, PNG/BMP/GIF
// through stb, EXIF orientation through libexif, on arbitrary bytes. Besides crashes and sanitizer reports
// it checks the contract: a decode either throws seer::Error naming the file or returns an RGB image of
// width x height x 3 bytes within the limits.
// Build and run: scripts/fuzz.sh image [SECONDS]
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/check.h"
#include "model/image_decode.h"

using namespace seer::model;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  DecodeLimits limits;
  limits.max_pixels = 1 << 22;  // 4 Mpixel: keeps each run fast and memory bounded
  const AlphaMode alpha = (data[0] & 1) != 0 ? AlphaMode::kDrop : AlphaMode::kWhite;
  try {
    const RgbImage img = decode_image(bytes, "fuzz.img", alpha, limits);
    if (img.width <= 0 || img.height <= 0 ||
        static_cast<int64_t>(img.width) * img.height > limits.max_pixels ||
        img.pixels.size() != static_cast<size_t>(img.width) * img.height * 3) {
      std::abort();
    }
  } catch (const seer::Error& e) {
    if (std::string_view(e.what()).find("fuzz.img") == std::string_view::npos) std::abort();  // must name the file
  }
  (void)exif_orientation(bytes);
  return 0;
}
