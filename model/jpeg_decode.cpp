#include "model/jpeg_decode.h"

#include <csetjmp>
#include <cstdint>
#include <cstdio>  // jpeglib.h needs FILE

#include <jpeglib.h>
#include <jerror.h>  // JWRN_JPEG_EOF

#include "core/check.h"

namespace seer::model {
namespace {

constexpr int kMaxScans = 500;  // as TurboJPEG's TJFLAG_LIMITSCANS

/// libjpeg's error manager extended with a jump target: fatal errors longjmp back into decode_jpeg (never
/// across a C++ object with a destructor), warnings are counted, "premature end of data" is remembered.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = {};
  bool truncated = false;
};

void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void on_message(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (level < 0) {
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) err->truncated = true;
    ++cinfo->err->num_warnings;
  }
  // Never printed: the caller reports what matters, naming the file.
}

void on_progress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > kMaxScans) {
    auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
    std::snprintf(err->message, JMSG_LENGTH_MAX, "more than %d scans", kMaxScans);
    std::longjmp(err->jump, 1);
  }
}

/// Pillow's MULDIV255: round(a·b/255) in integers (Convert.c).
int muldiv255(int a, int b) {
  const int t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/// What the decode produced, all plain data so that longjmp skips no destructor.
struct Decoded {
  int width = 0, height = 0, components = 0;
  bool over_limit = false;
  bool cmyk = false;
};

/// The libjpeg calls, between setjmp and the last use of `cinfo`; no object with a destructor lives in this
/// frame (`rows` is the caller's). Fills `info` and `rows` (output_height x output_width x components).
/// Returns false on a fatal libjpeg error (message in `err`).
bool run_libjpeg(const unsigned char* data, unsigned long size, int64_t max_pixels, ErrorManager& err,
                 Decoded& info, std::vector<uint8_t>& rows) {
  jpeg_decompress_struct cinfo;
  jpeg_progress_mgr progress;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  if (setjmp(err.jump) != 0) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  progress.progress_monitor = on_progress;
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, data, size);
  jpeg_read_header(&cinfo, TRUE);
  info.width = static_cast<int>(cinfo.image_width);
  info.height = static_cast<int>(cinfo.image_height);
  if (info.width <= 0 || info.height <= 0 || static_cast<int64_t>(info.width) * info.height > max_pixels) {
    info.over_limit = true;
    jpeg_destroy_decompress(&cinfo);
    return true;
  }
  // Pillow's JpegDecode: grey as L, CMYK/YCCK as CMYK, everything else as RGB; libjpeg's defaults otherwise
  // (JDCT_ISLOW, fancy upsampling), which Pillow does not change.
  info.cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = info.cmyk ? JCS_CMYK : cinfo.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  info.components = cinfo.output_components;
  const size_t stride = static_cast<size_t>(cinfo.output_width) * cinfo.output_components;
  rows.resize(stride * cinfo.output_height);  // std::bad_alloc cannot happen inside libjpeg: no jump pending
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = rows.data() + stride * cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

}  // namespace

RgbImage decode_jpeg(std::string_view bytes, const std::string& name, const DecodeLimits& limits) {
  ErrorManager err;
  Decoded info;
  std::vector<uint8_t> rows;
  const bool ok = run_libjpeg(reinterpret_cast<const unsigned char*>(bytes.data()),
                              static_cast<unsigned long>(bytes.size()), limits.max_pixels, err, info, rows);
  SEER_CHECK(ok, "{}: cannot decode JPEG ({})", name, err.message);
  SEER_CHECK(info.width > 0 && info.height > 0, "{}: image has no pixels ({}x{})", name, info.width, info.height);
  SEER_CHECK(!info.over_limit, "{}: {}x{} = {} pixels is over the {} pixel limit", name, info.width, info.height,
             static_cast<int64_t>(info.width) * info.height, limits.max_pixels);
  SEER_CHECK(!err.truncated, "{}: truncated JPEG (premature end of data)", name);
  RgbImage img;
  img.width = info.width;
  img.height = info.height;
  const size_t n = static_cast<size_t>(info.width) * info.height;
  img.pixels.resize(n * 3);
  for (size_t i = 0; i < n; ++i) {
    uint8_t* q = &img.pixels[i * 3];
    if (info.components == 1) {
      q[0] = q[1] = q[2] = rows[i];
    } else if (info.cmyk) {
      // Pillow reads CMYK JPEGs as Adobe-inverted ("CMYK;I") and converts with cmyk2rgb:
      // nk = 255 − k; channel = nk − muldiv255(c, nk), where c, k are the inverted samples.
      const uint8_t* p = &rows[i * 4];
      const int nk = p[3];  // 255 − (255 − raw k)
      for (int c = 0; c < 3; ++c) q[c] = static_cast<uint8_t>(nk - muldiv255(255 - p[c], nk));
    } else {
      const uint8_t* p = &rows[i * 3];
      q[0] = p[0];
      q[1] = p[1];
      q[2] = p[2];
    }
  }
  return img;
}

}  // namespace seer::model
