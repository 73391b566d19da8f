// Image decoding and the CLIP / SigLIP processors against ../shared/golden/image-preprocessing (PIL and
// transformers outputs), the field-report image cases of ../shared/cases/images.jsonl, and a property test
// over random declared sizes.
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/atomic_file.h"
#include "core/check.h"
#include "model/image_decode.h"
#include "model/image_processor.h"
#include "model/qwen2vl_patches.h"
#include "model/safetensors.h"

namespace seer::model {
namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}
std::string golden_dir() { return env_or("SEER_GOLDEN_DIR", SEER_DEFAULT_GOLDEN_DIR) + "/image-preprocessing"; }
std::string cases_dir() { return env_or("SEER_CASES_DIR", SEER_DEFAULT_CASES_DIR); }

torch::Tensor as_tensor(const RgbImage& img) {
  return torch::from_blob(const_cast<uint8_t*>(img.pixels.data()), {img.height, img.width, 3}, torch::kUInt8).clone();
}

/// The image files of the golden folder (whatever it holds: names and count are the folder's), sorted.
std::vector<std::string> golden_images() {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(golden_dir())) {
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (entry.is_regular_file() && (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".gif" || ext == ".bmp")) {
      out.push_back(entry.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  EXPECT_FALSE(out.empty()) << "no images in " << golden_dir();
  return out;
}

std::string stem(const std::string& file) { return file.substr(0, file.find('.')); }

TEST(ImageGolden, DecodedPixelsMatchPil) {
  SafetensorsFile cases(golden_dir() + "/cases.safetensors");
  for (const std::string& file : golden_images()) {
    const RgbImage img = decode_image_file(golden_dir() + "/" + file, AlphaMode::kDrop);
    auto ref = cases.tensor("image." + stem(file) + ".decoded_u8");
    if (ref.dim() == 2) ref = ref.unsqueeze(-1).expand({-1, -1, 3});  // mode L
    ref = ref.narrow(2, 0, 3);                                         // RGBA: alpha dropped
    const auto ours = as_tensor(img);
    ASSERT_EQ(ours.sizes(), ref.sizes()) << file;
    const int max_diff = (ours.to(torch::kInt) - ref.to(torch::kInt)).abs().max().item<int>();
    // PNG through stb and JPEG through libjpeg-turbo (Pillow's decoder, same settings): exact.
    EXPECT_EQ(max_diff, 0) << file << ": decode must equal Pillow's";
  }
}

TEST(ImageGolden, ClipAndSiglipMatchTransformers) {
  SafetensorsFile cases(golden_dir() + "/cases.safetensors");
  for (const std::string processor : {"clip", "siglip"}) {
    const ProcessorConfig cfg = load_processor_config(golden_dir() + "/" + processor);
    for (const std::string& file : golden_images()) {
      const std::string name = processor + "." + stem(file);
      const RgbImage img = decode_image_file(golden_dir() + "/" + file, AlphaMode::kDrop);
      // The resize intermediate, before crop: within 1 LSB of PIL (exactly, when the decode is exact).
      int w = cfg.resize_width, h = cfg.resize_height;
      if (processor == "clip") {
        const auto ref = cases.tensor(name + ".resized_u8");
        h = static_cast<int>(ref.size(0));
        w = static_cast<int>(ref.size(1));
      }
      const auto resized = as_tensor(resize_bicubic(img, w, h));
      const auto ref_resized = cases.tensor(name + ".resized_u8");
      ASSERT_EQ(resized.sizes(), ref_resized.sizes()) << name;
      const int lsb = (resized.to(torch::kInt) - ref_resized.to(torch::kInt)).abs().max().item<int>();
      EXPECT_LE(lsb, 1) << name;
      const auto ref = cases.tensor(name + ".pixel_values").to(torch::kDouble);
      auto rel_error = [&](const RgbImage& input) {
        const PixelValues pv = preprocess(input, cfg);
        const auto ours =
            torch::from_blob(const_cast<float*>(pv.values.data()), {1, 3, pv.height, pv.width}).to(torch::kDouble);
        EXPECT_EQ(ours.sizes(), ref.sizes()) << name;
        return ours.sizes() == ref.sizes() ? (ours - ref).norm().item<double>() / ref.norm().item<double>() : 1.0;
      };
      EXPECT_LT(rel_error(img), 1e-3) << name;  // from our own decode, JPEG included
    }
  }
}

RgbImage pil_decoded(SafetensorsFile& cases, const std::string& file) {
  auto pil = cases.tensor("image." + stem(file) + ".decoded_u8").contiguous();
  if (pil.dim() == 2) pil = pil.unsqueeze(-1).expand({-1, -1, 3});
  pil = pil.narrow(2, 0, 3).contiguous();
  RgbImage img;
  img.height = static_cast<int>(pil.size(0));
  img.width = static_cast<int>(pil.size(1));
  img.pixels.assign(pil.data_ptr<uint8_t>(), pil.data_ptr<uint8_t>() + pil.numel());
  return img;
}

TEST(ImageGolden, Qwen2VlPatchesMatchTransformers) {
  SafetensorsFile cases(golden_dir() + "/cases.safetensors");
  const ProcessorConfig cfg = load_processor_config(golden_dir() + "/qwen2vl");
  ASSERT_TRUE(cfg.dynamic_resolution());
  for (const std::string& file : golden_images()) {
    const std::string name = "qwen2vl." + stem(file);
    if (!cases.contains(name + ".pixel_values")) continue;
    // Pillow's decoded pixels, so that the JPEG decoder is not what is measured here.
    const RgbImage img = pil_decoded(cases, file);
    const auto ref_resized = cases.tensor(name + ".resized_u8");
    const auto hw = smart_resize(img.height, img.width, cfg.min_pixels, cfg.max_pixels, name);
    ASSERT_EQ(hw[0], ref_resized.size(0)) << name;
    ASSERT_EQ(hw[1], ref_resized.size(1)) << name;
    const auto resized = as_tensor(resize_bicubic(img, hw[1], hw[0]));
    EXPECT_LE((resized.to(torch::kInt) - ref_resized.to(torch::kInt)).abs().max().item<int>(), 1) << name;
    const VisionPatches p = preprocess_patches(img, cfg, name);
    const auto grid = cases.tensor(name + ".image_grid_thw");
    EXPECT_EQ(p.grid_t, grid[0][0].item<int64_t>()) << name;
    EXPECT_EQ(p.grid_h, grid[0][1].item<int64_t>()) << name;
    EXPECT_EQ(p.grid_w, grid[0][2].item<int64_t>()) << name;
    const auto ref = cases.tensor(name + ".pixel_values").to(torch::kDouble);
    ASSERT_EQ(ref.size(0), p.patches()) << name;
    ASSERT_EQ(ref.size(1), p.patch_dim) << name;
    const auto ours = torch::from_blob(const_cast<float*>(p.values.data()), {p.patches(), p.patch_dim}).to(torch::kDouble);
    EXPECT_LT((ours - ref).norm().item<double>() / ref.norm().item<double>(), 1e-3) << name;
  }
}

TEST(ImageProcessor, Qwen2VlPatchOrderFollowsMergeWindows) {
  // A 1-channel 56x28 (h x w) ramp, patch 14, merge 2: 4x2 patches in two 2x2 windows (top, bottom).
  ProcessorConfig c;
  c.type = "Qwen2VLImageProcessor";
  PixelValues px;
  px.channels = 1;
  px.height = 56;
  px.width = 28;
  for (int y = 0; y < 56; ++y) {
    for (int x = 0; x < 28; ++x) px.values.push_back(static_cast<float>(y * 100 + x));
  }
  const VisionPatches p = to_patches(px, c);
  ASSERT_EQ(p.patches(), 8);
  ASSERT_EQ(p.patch_dim, 2 * 14 * 14);
  EXPECT_EQ(p.tokens(2), 2);
  // Patch k starts at pixel (y0, x0): window 0 holds rows 0-1 of patches, window 1 rows 2-3.
  const int starts[8][2] = {{0, 0}, {0, 14}, {14, 0}, {14, 14}, {28, 0}, {28, 14}, {42, 0}, {42, 14}};
  for (int k = 0; k < 8; ++k) {
    const float* row = p.values.data() + k * p.patch_dim;
    EXPECT_EQ(row[0], starts[k][0] * 100 + starts[k][1]) << k;
    EXPECT_EQ(row[14 * 14 + 13 * 14 + 5], (starts[k][0] + 13) * 100 + starts[k][1] + 5) << k;  // frame 2 = frame 1
  }
  px.width = 30;
  px.values.resize(56 * 30);
  EXPECT_THROW(to_patches(px, c, "odd.png"), Error);
}

TEST(ImageCases, EveryFieldReportCaseHolds) {
  std::ifstream in(cases_dir() + "/images.jsonl");
  ASSERT_TRUE(in.good()) << cases_dir();
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    const auto c = nlohmann::json::parse(line);
    const std::string path = cases_dir() + "/" + c["file"].get<std::string>();
    const auto& e = c["expect"];
    const std::string why = c["id"].get<std::string>() + ": " + c["why"].get<std::string>();
    ++checked;
    if (e.value("error", false)) {
      try {
        decode_image_file(path);
        ADD_FAILURE() << why << " (decoded without error)";
      } catch (const Error& err) {
        EXPECT_NE(std::string(err.what()).find(c["file"].get<std::string>()), std::string::npos) << err.what();
      }
      continue;
    }
    RgbImage img;
    try {
      img = decode_image_file(path);
    } catch (const Error& err) {
      ADD_FAILURE() << why << ": " << err.what();
      continue;
    }
    EXPECT_EQ(img.width, e["width"].get<int>()) << why;
    EXPECT_EQ(img.height, e["height"].get<int>()) << why;
    if (img.width != e["width"].get<int>() || img.height != e["height"].get<int>()) continue;
    const int tol = e["pixel_tol"];
    for (const auto& p : e["pixels"]) {
      const uint8_t* px = img.at(p[0].get<int>(), p[1].get<int>());
      for (int ch = 0; ch < 3; ++ch) {
        EXPECT_NEAR(px[ch], p[2][ch].get<int>(), tol) << why << " at " << p.dump();
      }
    }
    if (e.contains("qwen2vl")) {
      const auto& q = e["qwen2vl"];
      if (q.value("error", false)) {
        EXPECT_THROW(smart_resize(img.height, img.width, q["min_pixels"], q["max_pixels"], path), Error) << why;
      } else {
        const auto hw = smart_resize(img.height, img.width, q["min_pixels"], q["max_pixels"], path);
        EXPECT_EQ(hw[0], q["resized_hw"][0].get<int>()) << why;
        EXPECT_EQ(hw[1], q["resized_hw"][1].get<int>()) << why;
      }
    }
  }
  EXPECT_GE(checked, 1) << "no cases in " << cases_dir();  // the folder decides how many
}

/// A PNG that is only a header (signature + IHDR + IEND) declaring `w` x `h`.
std::string png_header(uint32_t w, uint32_t h) {
  auto be = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  auto chunk = [&](const std::string& type, const std::string& data) {
    const std::string body = type + data;
    return be(static_cast<uint32_t>(data.size())) + body +
           be(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
  };
  const std::string ihdr = be(w) + be(h) + std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB
  return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IEND", "");
}

TEST(ImageProperty, AnyDeclaredSizeGivesAResultOrAPerFileError) {
  std::mt19937 rng(42);
  for (int i = 0; i < 300; ++i) {
    const uint32_t w = 1 + rng() % 10000, h = 1 + rng() % 10000;
    const std::string name = "random_" + std::to_string(w) + "x" + std::to_string(h) + ".png";
    try {
      const RgbImage img = decode_image(png_header(w, h), name);
      EXPECT_EQ(img.width, static_cast<int>(w));  // (header-only files never decode, but if one did...)
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
    try {
      const auto hw = smart_resize(static_cast<int>(h), static_cast<int>(w), 3136, 1003520, name);
      EXPECT_EQ(hw[0] % 28, 0);
      EXPECT_EQ(hw[1] % 28, 0);
      EXPECT_GE(std::min(hw[0], hw[1]), 28);
      EXPECT_LE(static_cast<int64_t>(hw[0]) * hw[1], 1003520);
    } catch (const Error& e) {
      EXPECT_GT(static_cast<double>(std::max(w, h)) / std::min(w, h), 200.0) << e.what();
    }
  }
}

TEST(ImageDecode, JpegFaultsAreErrorsNamingTheFile) {
  const std::string file = golden_dir() + "/jpeg_flower.jpg";
  const std::string bytes = read_file(file);
  const RgbImage ok = decode_image(bytes, "flower.jpg");
  // Over the pixel limit: refused from the header, before any pixel buffer.
  DecodeLimits small;
  small.max_pixels = static_cast<int64_t>(ok.width) * ok.height - 1;
  try {
    decode_image(bytes, "flower.jpg", AlphaMode::kWhite, small);
    ADD_FAILURE() << "no error over the pixel limit";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("flower.jpg"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("pixel limit"), std::string::npos) << e.what();
  }
  // A frame header that says 12-bit samples: libjpeg's fatal error comes back as a per-file error.
  const size_t sof = bytes.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  std::string bad = bytes;
  bad[sof + 4] = 12;
  try {
    decode_image(bad, "bad_precision.jpg");
    ADD_FAILURE() << "no error for a 12-bit frame";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad_precision.jpg: cannot decode JPEG ("), std::string::npos) << e.what();
  }
  // The file still decodes afterwards (no state left behind by the failed decode).
  EXPECT_EQ(decode_image(bytes, "flower.jpg").pixels, ok.pixels);
}

TEST(ImageDecode, CompositingOverWhiteVersusDrop) {
  // A 1x1 RGBA PNG would need an encoder; use the golden RGBA photo: transparent pixels turn white.
  const RgbImage dropped = decode_image_file(golden_dir() + "/rgba_coffee.png", AlphaMode::kDrop);
  const RgbImage white = decode_image_file(golden_dir() + "/rgba_coffee.png", AlphaMode::kWhite);
  SafetensorsFile cases(golden_dir() + "/cases.safetensors");
  const auto rgba = cases.tensor("image.rgba_coffee.decoded_u8");
  const auto acc = rgba.accessor<uint8_t, 3>();
  int checked = 0;
  for (int y = 0; y < dropped.height; y += 7) {
    for (int x = 0; x < dropped.width; x += 7) {
      const int a = acc[y][x][3];
      for (int ch = 0; ch < 3; ++ch) {
        const int c = acc[y][x][ch];
        EXPECT_EQ(white.at(x, y)[ch], static_cast<int>(std::lround(c * a / 255.0 + 255.0 * (1 - a / 255.0))));
        EXPECT_EQ(dropped.at(x, y)[ch], c);
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
}

}  // namespace
}  // namespace seer::model
