#include "model/image_decode.h"

#include <filesystem>

#include <libexif/exif-data.h>
#include <stb_image.h>

#include "core/atomic_file.h"
#include "core/check.h"
#include "model/jpeg_decode.h"

namespace seer::model {
namespace {

uint16_t be16(std::string_view b, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(b[at]) << 8) | static_cast<uint8_t>(b[at + 1]));
}
uint32_t be32(std::string_view b, size_t at) {
  return (static_cast<uint32_t>(be16(b, at)) << 16) | be16(b, at + 2);
}

bool is_jpeg(std::string_view b) { return b.size() >= 3 && static_cast<uint8_t>(b[0]) == 0xFF && static_cast<uint8_t>(b[1]) == 0xD8; }
bool is_png(std::string_view b) { return b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8); }

/// The EXIF payload ("Exif\0\0" + TIFF) of a JPEG's APP1 segment or a PNG's eXIf chunk; "" if none.
std::string exif_payload(std::string_view b) {
  if (is_jpeg(b)) {
    size_t at = 2;
    while (at + 4 <= b.size() && static_cast<uint8_t>(b[at]) == 0xFF) {
      const uint8_t marker = static_cast<uint8_t>(b[at + 1]);
      if (marker == 0xDA || marker == 0xD9) break;  // start of scan / end: no more metadata
      const size_t len = be16(b, at + 2);
      if (len < 2 || at + 2 + len > b.size()) break;
      if (marker == 0xE1 && len >= 8 && b.substr(at + 4, 6) == std::string_view("Exif\0\0", 6)) {
        return std::string(b.substr(at + 4, len - 2));
      }
      at += 2 + len;
    }
  } else if (is_png(b)) {
    size_t at = 8;
    while (at + 12 <= b.size()) {
      const uint32_t len = be32(b, at);
      if (len > b.size() - at - 12) break;
      if (b.substr(at + 4, 4) == "eXIf") return "Exif" + std::string("\0\0", 2) + std::string(b.substr(at + 8, len));
      if (b.substr(at + 4, 4) == "IDAT" || b.substr(at + 4, 4) == "IEND") {
        // eXIf may come after IDAT too; keep walking.
      }
      at += 12 + len;
    }
  }
  return "";
}

/// A JPEG is complete when an end-of-image marker follows its last start-of-scan. (Entropy-coded data
/// never holds a bare 0xFF 0xD9, and an embedded EXIF thumbnail's markers come before the main scan.)
bool jpeg_complete(std::string_view b) {
  size_t last_sos = std::string_view::npos;
  for (size_t i = 0; i + 1 < b.size(); ++i) {
    if (static_cast<uint8_t>(b[i]) == 0xFF && static_cast<uint8_t>(b[i + 1]) == 0xDA) last_sos = i;
  }
  if (last_sos == std::string_view::npos) return false;
  for (size_t i = last_sos + 2; i + 1 < b.size(); ++i) {
    if (static_cast<uint8_t>(b[i]) == 0xFF && static_cast<uint8_t>(b[i + 1]) == 0xD9) return true;
  }
  return false;
}

/// out = round(c·a/255 + 255·(1 − a/255)); never a tie, so integer rounding is exact.
uint8_t over_white(int c, int a) { return static_cast<uint8_t>((c * a + 255 * (255 - a) + 127) / 255); }

}  // namespace

int exif_orientation(std::string_view bytes) {
  const std::string payload = exif_payload(bytes);
  if (payload.size() < 14) return 1;
  ExifData* ed = exif_data_new_from_data(reinterpret_cast<const unsigned char*>(payload.data()),
                                         static_cast<unsigned int>(payload.size()));
  if (ed == nullptr) return 1;
  int orientation = 1;
  ExifEntry* e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
  if (e != nullptr && e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->data != nullptr && e->size >= 2) {
    const int v = exif_get_short(e->data, exif_data_get_byte_order(ed));
    if (v >= 1 && v <= 8) orientation = v;
  }
  exif_data_unref(ed);
  return orientation;
}

RgbImage apply_orientation(const RgbImage& in, int orientation) {
  if (orientation <= 1 || orientation > 8) return in;
  const int W = in.width, H = in.height;
  const bool swap = orientation >= 5;
  RgbImage out;
  out.width = swap ? H : W;
  out.height = swap ? W : H;
  out.pixels.resize(in.pixels.size());
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      int sx = x, sy = y;
      switch (orientation) {
        case 2: sx = W - 1 - x; break;                  // mirror left-right
        case 3: sx = W - 1 - x; sy = H - 1 - y; break;  // rotate 180
        case 4: sy = H - 1 - y; break;                  // mirror top-bottom
        case 5: sx = y; sy = x; break;                  // transpose
        case 6: sx = y; sy = H - 1 - x; break;          // rotate 90 clockwise
        case 7: sx = W - 1 - y; sy = H - 1 - x; break;  // transverse
        case 8: sx = W - 1 - y; sy = x; break;          // rotate 90 counter-clockwise
      }
      const uint8_t* p = in.at(sx, sy);
      uint8_t* q = &out.pixels[(static_cast<size_t>(y) * out.width + x) * 3];
      q[0] = p[0];
      q[1] = p[1];
      q[2] = p[2];
    }
  }
  return out;
}

RgbImage decode_image(std::string_view bytes, const std::string& name, AlphaMode alpha, const DecodeLimits& limits) {
  SEER_CHECK(!bytes.empty(), "{}: empty file, not an image", name);
  SEER_CHECK(static_cast<int64_t>(bytes.size()) <= limits.max_file_bytes, "{}: {} bytes is over the {} byte limit", name,
             bytes.size(), limits.max_file_bytes);
  SEER_CHECK(bytes.size() <= static_cast<size_t>(INT32_MAX), "{}: file too large", name);
  if (is_jpeg(bytes)) {
    SEER_CHECK(jpeg_complete(bytes), "{}: truncated JPEG (no end-of-image marker after the scan)", name);
    return apply_orientation(decode_jpeg(bytes, name, limits), exif_orientation(bytes));
  }
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, channels = 0;
  if (stbi_info_from_memory(data, len, &w, &h, &channels) == 0) {
    const char* why = stbi_failure_reason();
    SEER_FAIL("{}: cannot decode ({})", name, why != nullptr ? why : "not an image");
  }
  SEER_CHECK(w > 0 && h > 0, "{}: image has no pixels ({}x{})", name, w, h);
  SEER_CHECK(static_cast<int64_t>(w) * h <= limits.max_pixels, "{}: {}x{} = {} pixels is over the {} pixel limit", name,
             w, h, static_cast<int64_t>(w) * h, limits.max_pixels);
  stbi_uc* raw = stbi_load_from_memory(data, len, &w, &h, &channels, 0);
  if (raw == nullptr) {
    const char* why = stbi_failure_reason();
    SEER_FAIL("{}: cannot decode ({})", name, why != nullptr ? why : "corrupt or truncated data");
  }
  RgbImage img;
  img.width = w;
  img.height = h;
  img.pixels.resize(static_cast<size_t>(w) * h * 3);
  const size_t n = static_cast<size_t>(w) * h;
  for (size_t i = 0; i < n; ++i) {
    const stbi_uc* p = raw + i * static_cast<size_t>(channels);
    uint8_t* q = &img.pixels[i * 3];
    const bool grey = channels <= 2;
    int r = p[0], g = grey ? p[0] : p[1], b = grey ? p[0] : p[2];
    const bool has_alpha = channels == 2 || channels == 4;
    if (has_alpha && alpha == AlphaMode::kWhite) {
      const int a = p[channels - 1];
      r = over_white(r, a);
      g = over_white(g, a);
      b = over_white(b, a);
    }
    q[0] = static_cast<uint8_t>(r);
    q[1] = static_cast<uint8_t>(g);
    q[2] = static_cast<uint8_t>(b);
  }
  stbi_image_free(raw);
  return apply_orientation(img, exif_orientation(bytes));
}

RgbImage decode_image_file(const std::string& path, AlphaMode alpha, const DecodeLimits& limits) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  SEER_CHECK(!ec, "{}: cannot read image: {}", path, ec.message());
  SEER_CHECK(static_cast<int64_t>(size) <= limits.max_file_bytes, "{}: {} bytes is over the {} byte limit", path, size,
             limits.max_file_bytes);
  return decode_image(read_file(path), path, alpha, limits);
}

}  // namespace seer::model
