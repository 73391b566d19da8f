#include "model/image_processor.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/check.h"
#include "core/json_get.h"

namespace seer::model {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Resample.c PRECISION_BITS for 8-bit images

double bicubic(double x) {  // Resample.c bicubic_filter, a = -0.5
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

/// Resample.c precompute_coeffs + normalize_coeffs_8bpc for one axis.
struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;  // per output: xmin, xcount
  std::vector<int> k;       // per output: ksize fixed-point weights
};

Coeffs precompute(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 2.0 * filterscale;
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(static_cast<size_t>(out_size) * 2);
  c.k.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> w(static_cast<size_t>(c.ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[static_cast<size_t>(x)] = bicubic((x + xmin - center + 0.5) * ss);
      ww += w[static_cast<size_t>(x)];
    }
    for (int x = 0; x < xmax; ++x) {
      double v = ww != 0.0 ? w[static_cast<size_t>(x)] / ww : w[static_cast<size_t>(x)];
      // normalize_coeffs_8bpc: round half away from zero into fixed point.
      c.k[static_cast<size_t>(xx) * c.ksize + x] =
          v < 0 ? static_cast<int>(-0.5 + v * (1 << kPrecisionBits)) : static_cast<int>(0.5 + v * (1 << kPrecisionBits));
    }
    c.bounds[static_cast<size_t>(xx) * 2] = xmin;
    c.bounds[static_cast<size_t>(xx) * 2 + 1] = xmax;
  }
  return c;
}

uint8_t clip8(int64_t v) {
  v >>= kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

RgbImage horizontal(const RgbImage& in, int out_w) {
  const Coeffs c = precompute(in.width, out_w);
  RgbImage out;
  out.width = out_w;
  out.height = in.height;
  out.pixels.resize(static_cast<size_t>(out_w) * in.height * 3);
  for (int y = 0; y < in.height; ++y) {
    for (int xx = 0; xx < out_w; ++xx) {
      const int xmin = c.bounds[static_cast<size_t>(xx) * 2], xcount = c.bounds[static_cast<size_t>(xx) * 2 + 1];
      const int* k = &c.k[static_cast<size_t>(xx) * c.ksize];
      for (int ch = 0; ch < 3; ++ch) {
        int64_t ss = int64_t{1} << (kPrecisionBits - 1);
        for (int x = 0; x < xcount; ++x) ss += static_cast<int64_t>(in.at(xmin + x, y)[ch]) * k[x];
        out.pixels[(static_cast<size_t>(y) * out_w + xx) * 3 + ch] = clip8(ss);
      }
    }
  }
  return out;
}

RgbImage vertical(const RgbImage& in, int out_h) {
  const Coeffs c = precompute(in.height, out_h);
  RgbImage out;
  out.width = in.width;
  out.height = out_h;
  out.pixels.resize(static_cast<size_t>(in.width) * out_h * 3);
  for (int yy = 0; yy < out_h; ++yy) {
    const int ymin = c.bounds[static_cast<size_t>(yy) * 2], ycount = c.bounds[static_cast<size_t>(yy) * 2 + 1];
    const int* k = &c.k[static_cast<size_t>(yy) * c.ksize];
    for (int x = 0; x < in.width; ++x) {
      for (int ch = 0; ch < 3; ++ch) {
        int64_t ss = int64_t{1} << (kPrecisionBits - 1);
        for (int y = 0; y < ycount; ++y) ss += static_cast<int64_t>(in.at(x, ymin + y)[ch]) * k[y];
        out.pixels[(static_cast<size_t>(yy) * in.width + x) * 3 + ch] = clip8(ss);
      }
    }
  }
  return out;
}

}  // namespace

RgbImage resize_bicubic(const RgbImage& image, int width, int height) {
  SEER_CHECK(width > 0 && height > 0, "resize to {}x{}: sizes must be positive", width, height);
  RgbImage out = image;
  if (width != image.width) out = horizontal(out, width);  // Resample.c: horizontal pass first
  if (height != image.height) out = vertical(out, height);
  return out;
}

ProcessorConfig load_processor_config(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "preprocessor_config.json").string();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    SEER_FAIL("{}: not valid JSON: {}", path, e.what());
  }
  ProcessorConfig c;
  c.type = json_get_or<std::string>(j, "image_processor_type", "", path);
  SEER_CHECK(c.type == "CLIPImageProcessor" || c.type == "SiglipImageProcessor" || c.type == "Qwen2VLImageProcessor",
             "{}: image_processor_type '{}' is not supported (CLIPImageProcessor, SiglipImageProcessor, "
             "Qwen2VLImageProcessor)", path, c.type);
  SEER_CHECK(json_get_or<int>(j, "resample", 3, path) == 3, "{}: resample {} is not supported (3 = bicubic only)", path,
             json_get_or<int>(j, "resample", 3, path));
  c.do_resize = json_get_or<bool>(j, "do_resize", true, path);
  c.do_rescale = json_get_or<bool>(j, "do_rescale", true, path);
  c.do_normalize = json_get_or<bool>(j, "do_normalize", true, path);
  c.do_center_crop = json_get_or<bool>(j, "do_center_crop", c.type == "CLIPImageProcessor", path);
  c.rescale_factor = json_get_or<double>(j, "rescale_factor", 1.0 / 255.0, path);
  const auto mean = json_get_or<std::vector<double>>(j, "image_mean", {0.5, 0.5, 0.5}, path);
  const auto stdv = json_get_or<std::vector<double>>(j, "image_std", {0.5, 0.5, 0.5}, path);
  SEER_CHECK(mean.size() == 3 && stdv.size() == 3, "{}: image_mean and image_std need 3 values", path);
  std::copy(mean.begin(), mean.end(), c.mean.begin());
  std::copy(stdv.begin(), stdv.end(), c.std.begin());
  const nlohmann::json size = j.contains("size") ? j["size"] : nlohmann::json::object();
  if (c.dynamic_resolution()) {
    // OpenAI CLIP mean/std are the Qwen2-VL defaults; bounds at top level (4.45) or in size (min_pixels/
    // max_pixels, or shortest_edge/longest_edge in later versions).
    if (!j.contains("image_mean")) c.mean = {0.48145466, 0.4578275, 0.40821073};
    if (!j.contains("image_std")) c.std = {0.26862954, 0.26130258, 0.27577711};
    c.min_pixels = json_get_or<int64_t>(size, "shortest_edge", json_get_or<int64_t>(size, "min_pixels", c.min_pixels, path + " size"),
                                   path + " size");
    c.max_pixels = json_get_or<int64_t>(size, "longest_edge", json_get_or<int64_t>(size, "max_pixels", c.max_pixels, path + " size"),
                                   path + " size");
    c.min_pixels = json_get_or<int64_t>(j, "min_pixels", c.min_pixels, path);
    c.max_pixels = json_get_or<int64_t>(j, "max_pixels", c.max_pixels, path);
    c.patch_size = json_get_or<int>(j, "patch_size", c.patch_size, path);
    c.merge_size = json_get_or<int>(j, "merge_size", c.merge_size, path);
    c.temporal_patch_size = json_get_or<int>(j, "temporal_patch_size", c.temporal_patch_size, path);
    SEER_CHECK(c.patch_size > 0 && c.merge_size > 0 && c.temporal_patch_size > 0,
               "{}: patch_size, merge_size and temporal_patch_size must be positive", path);
    SEER_CHECK(c.min_pixels > 0 && c.min_pixels <= c.max_pixels, "{}: need 0 < min_pixels ({}) <= max_pixels ({})", path,
               c.min_pixels, c.max_pixels);
  } else if (c.type == "CLIPImageProcessor") {
    c.shortest_edge = json_get_or<int>(size, "shortest_edge", 0, path + " size");
    SEER_CHECK(!c.do_resize || c.shortest_edge > 0, "{}: CLIP needs size.shortest_edge", path);
  } else {
    c.resize_height = json_get_or<int>(size, "height", 0, path + " size");
    c.resize_width = json_get_or<int>(size, "width", 0, path + " size");
    SEER_CHECK(!c.do_resize || (c.resize_height > 0 && c.resize_width > 0), "{}: SigLIP needs size.height and size.width",
               path);
  }
  if (c.do_center_crop) {
    const nlohmann::json crop = j.contains("crop_size") ? j["crop_size"] : nlohmann::json::object();
    c.crop_height = crop.is_number() ? crop.get<int>() : json_get_or<int>(crop, "height", 0, path + " crop_size");
    c.crop_width = crop.is_number() ? crop.get<int>() : json_get_or<int>(crop, "width", 0, path + " crop_size");
    SEER_CHECK(c.crop_height > 0 && c.crop_width > 0, "{}: do_center_crop needs crop_size.height and width", path);
  }
  return c;
}

PixelValues preprocess(const RgbImage& image, const ProcessorConfig& c, const std::string& name) {
  RgbImage img = image;
  if (c.do_resize) {
    int h = c.resize_height, w = c.resize_width;
    if (c.dynamic_resolution()) {
      const auto hw = smart_resize(image.height, image.width, c.min_pixels, c.max_pixels, name, c.patch_size * c.merge_size);
      h = hw[0];
      w = hw[1];
    } else if (c.type == "CLIPImageProcessor") {
      // transformers get_resize_output_image_size(default_to_square=False): short side -> shortest_edge,
      // long side int(shortest_edge * long / short) (truncated).
      const bool portrait = image.height > image.width;
      const int short_side = portrait ? image.width : image.height, long_side = portrait ? image.height : image.width;
      const int new_long = static_cast<int>(static_cast<int64_t>(c.shortest_edge) * long_side / short_side);
      h = portrait ? new_long : c.shortest_edge;
      w = portrait ? c.shortest_edge : new_long;
    }
    img = resize_bicubic(img, w, h);
  }
  int top = 0, left = 0, out_h = img.height, out_w = img.width;
  if (c.do_center_crop) {
    SEER_CHECK(img.height >= c.crop_height && img.width >= c.crop_width, "center crop {}x{} of a {}x{} image",
               c.crop_width, c.crop_height, img.width, img.height);
    top = (img.height - c.crop_height) / 2;  // transformers center_crop: integer floor
    left = (img.width - c.crop_width) / 2;
    out_h = c.crop_height;
    out_w = c.crop_width;
  }
  PixelValues pv;
  pv.height = out_h;
  pv.width = out_w;
  pv.values.resize(static_cast<size_t>(3) * out_h * out_w);
  for (int ch = 0; ch < 3; ++ch) {
    const float mean = static_cast<float>(c.mean[ch]), stdv = static_cast<float>(c.std[ch]);
    for (int y = 0; y < out_h; ++y) {
      for (int x = 0; x < out_w; ++x) {
        float v = img.at(left + x, top + y)[ch];
        if (c.do_rescale) v = static_cast<float>(v * c.rescale_factor);
        if (c.do_normalize) v = (v - mean) / stdv;
        pv.values[(static_cast<size_t>(ch) * out_h + y) * out_w + x] = v;
      }
    }
  }
  return pv;
}

std::array<int, 2> smart_resize(int height, int width, int64_t min_pixels, int64_t max_pixels, const std::string& name,
                                int factor) {
  const int f = factor;
  SEER_CHECK(f > 0, "{}: smart_resize factor {} must be positive", name, f);
  SEER_CHECK(height > 0 && width > 0, "{}: cannot resize a {}x{} image", name, width, height);
  const double ratio = static_cast<double>(std::max(height, width)) / std::min(height, width);
  SEER_CHECK(ratio <= 200.0, "{}: aspect ratio {:.1f} of {}x{} (w x h) exceeds 200", name, ratio, width, height);
  auto round_even = [](double x) { return std::nearbyint(x); };  // default rounding mode: half to even
  int h_bar = std::max(f, static_cast<int>(round_even(static_cast<double>(height) / f)) * f);
  int w_bar = std::max(f, static_cast<int>(round_even(static_cast<double>(width) / f)) * f);
  if (static_cast<int64_t>(h_bar) * w_bar > max_pixels) {
    const double beta = std::sqrt(static_cast<double>(height) * width / static_cast<double>(max_pixels));
    h_bar = std::max(f, static_cast<int>(std::floor(height / beta / f)) * f);
    w_bar = std::max(f, static_cast<int>(std::floor(width / beta / f)) * f);
  } else if (static_cast<int64_t>(h_bar) * w_bar < min_pixels) {
    const double beta = std::sqrt(static_cast<double>(min_pixels) / (static_cast<double>(height) * width));
    h_bar = static_cast<int>(std::ceil(height * beta / f)) * f;
    w_bar = static_cast<int>(std::ceil(width * beta / f)) * f;
  }
  return {h_bar, w_bar};
}

}  // namespace seer::model
