// JPEG decoding through libjpeg-turbo's libjpeg API, with the settings Pillow uses (islow DCT, fancy
// upsampling, CMYK read as Adobe-inverted and converted to RGB as Pillow's Convert.c does), so decoded pixels
// equal Pillow's (`Image.open(f).convert("RGB")`) byte for byte on the same libjpeg-turbo.
#pragma once

#include <string>
#include <string_view>

#include "model/image_decode.h"

namespace seer::model {

/// Decodes JPEG `bytes` (baseline, progressive, arithmetic; grey, YCbCr, RGB, CMYK, YCCK) into 8-bit RGB,
/// HWC, before any EXIF orientation. Throws seer::Error naming `name`: not a JPEG, corrupt data (libjpeg's
/// fatal errors, with its message), truncated (premature end of data), more than 500 scans (a progressive
/// file built to take minutes), or width x height over `limits.max_pixels` (checked from the header, before
/// any pixel buffer is allocated).
RgbImage decode_jpeg(std::string_view bytes, const std::string& name, const DecodeLimits& limits);

}  // namespace seer::model
