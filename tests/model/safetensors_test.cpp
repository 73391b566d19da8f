// safetensors reading and writing, and every kind of malformed file: each must be a seer::Error naming
// the file (and tensor), never a crash or an out-of-bounds read. This binary is built with
// AddressSanitizer and UndefinedBehaviorSanitizer.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/check.h"
#include "model/safetensors.h"

namespace seer::model {
namespace {

namespace fs = std::filesystem;

class Safetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seer_st_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// A file with header `json` (length-prefixed) followed by `data_bytes` bytes; `declared` overrides the
  /// header length field when >= 0.
  std::string write_raw(const std::string& name, const std::string& json, size_t data_bytes, int64_t declared = -1) {
    const std::string path = (dir_ / name).string();
    std::ofstream out(path, std::ios::binary);
    const uint64_t n = declared >= 0 ? static_cast<uint64_t>(declared) : json.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
    out << json << std::string(data_bytes, '\x01');
    return path;
  }

  /// The error message of opening `path` (fails the test if it opens).
  std::string error_of(const std::string& path) {
    try {
      SafetensorsFile f(path);
      ADD_FAILURE() << "expected an error for " << path;
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

TEST_F(Safetensors, RoundTripOfEveryDtype) {
  std::map<std::string, at::Tensor> tensors = {
      {"f32", at::randn({3, 4})},
      {"f16", at::randn({5}).to(at::kHalf)},
      {"bf16", at::randn({2, 2}).to(at::kBFloat16)},
      {"i64", at::arange(7, at::kLong)},
      {"empty", at::zeros({0, 3})},
      {"scalar", at::tensor(3.5)}};
  const std::string path = (dir_ / "all.safetensors").string();
  write_safetensors(path, tensors, {{"format", "pt"}, {"note", "x"}});
  SafetensorsFile f(path);
  EXPECT_EQ(f.metadata().at("note"), "x");
  for (const auto& [name, t] : tensors) {
    const at::Tensor back = f.tensor(name);
    EXPECT_EQ(back.scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(at::equal(back, t)) << name;
  }
  EXPECT_THROW(f.tensor("missing"), Error);
}

TEST_F(Safetensors, ShardedRoundTrip) {
  std::map<std::string, at::Tensor> tensors;
  for (int i = 0; i < 6; ++i) tensors["w" + std::to_string(i)] = at::randn({64, 64});
  write_checkpoint_tensors(dir_.string(), tensors, 40000);
  EXPECT_TRUE(fs::exists(dir_ / "model.safetensors.index.json"));
  CheckpointReader r(dir_.string());
  EXPECT_EQ(r.names().size(), 6u);
  for (const auto& [name, t] : tensors) EXPECT_TRUE(at::equal(r.tensor(name), t)) << name;
}

TEST_F(Safetensors, TruncatedFile) {
  const std::string path = (dir_ / "short.safetensors").string();
  std::ofstream(path, std::ios::binary) << "abc";
  EXPECT_NE(error_of(path).find("truncated"), std::string::npos);
  // Valid header, data cut short.
  const std::string cut = write_raw("cut.safetensors", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8);
  const std::string msg = error_of(cut);
  EXPECT_NE(msg.find("'a'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cut.safetensors"), std::string::npos) << msg;
}

TEST_F(Safetensors, HeaderLengthPastEndOfFile) {
  const std::string path = write_raw("len.safetensors", "{}", 0, 1ll << 40);
  EXPECT_NE(error_of(path).find("runs past the end of the file"), std::string::npos);
}

TEST_F(Safetensors, OverlappingOffsets) {
  const std::string path = write_raw(
      "overlap.safetensors",
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12);
  EXPECT_NE(error_of(path).find("overlap"), std::string::npos);
}

TEST_F(Safetensors, OffsetsOutOfRange) {
  const std::string path =
      write_raw("range.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,4]}})", 16);
  EXPECT_NE(error_of(path).find("outside the data section"), std::string::npos);
  const std::string huge = write_raw(
      "huge.safetensors", R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[18446744073709551612,18446744073709551615]}})", 4);
  EXPECT_NE(error_of(huge).find("outside the data section"), std::string::npos);
}

TEST_F(Safetensors, UnknownDtype) {
  const std::string path = write_raw("dtype.safetensors", R"({"a":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}})", 2);
  EXPECT_NE(error_of(path).find("unknown dtype 'F8'"), std::string::npos);
}

TEST_F(Safetensors, ShapeSizeMismatch) {
  const std::string path = write_raw("shape.safetensors", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8);
  EXPECT_NE(error_of(path).find("12 bytes expected"), std::string::npos);
  const std::string negative =
      write_raw("neg.safetensors", R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4);
  EXPECT_NE(error_of(negative).find("non-negative"), std::string::npos);
  const std::string overflow = write_raw(
      "ovf.safetensors", R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})", 4);
  EXPECT_NE(error_of(overflow).find("overflows"), std::string::npos);
}

TEST_F(Safetensors, BadJsonHeader) {
  const std::string bad_utf8 = write_raw("utf8.safetensors", "{\"\xff\xfe\":{}}", 0);
  EXPECT_NE(error_of(bad_utf8).find("not valid UTF-8 JSON"), std::string::npos);
  const std::string broken = write_raw("json.safetensors", "{\"a\": [", 0);
  EXPECT_NE(error_of(broken).find("not valid UTF-8 JSON"), std::string::npos);
  const std::string not_object = write_raw("arr.safetensors", "[1,2]", 0);
  EXPECT_NE(error_of(not_object).find("JSON object"), std::string::npos);
  const std::string missing = write_raw("fields.safetensors", R"({"a":{"dtype":"F32"}})", 0);
  EXPECT_NE(error_of(missing).find("needs dtype, shape and data_offsets"), std::string::npos);
}

TEST_F(Safetensors, MissingShardIsNamed) {
  std::ofstream(dir_ / "model.safetensors.index.json") << R"({"weight_map": {"a": "model-00001-of-00002.safetensors"}})";
  try {
    CheckpointReader r(dir_.string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model-00001-of-00002.safetensors"), std::string::npos) << e.what();
  }
  std::ofstream(dir_ / "model.safetensors.index.json") << R"({"weight_map": {"a": "../etc/passwd"}})";
  EXPECT_THROW(CheckpointReader r(dir_.string()), Error);
}

}  // namespace
}  // namespace seer::model
