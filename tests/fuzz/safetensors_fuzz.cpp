// libFuzzer target for checkpoint files (model/safetensors.h): the first byte picks what the rest is.
//   even: a whole .safetensors file (8-byte header length, JSON header, data) opened by SafetensorsFile, then
//         every tensor read (dtype x shape must match its byte range, all inside the data section);
//   odd:  model.safetensors.index.json of a folder that also holds one valid shard, opened by CheckpointReader,
//         then every tensor it names read.
// Contract: a malformed file or index is a seer::Error naming it; never a crash, an out-of-bounds read or
// another exception.
// Build and run: scripts/fuzz.sh safetensors [SECONDS]
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <ATen/ATen.h>

#include "core/check.h"
#include "model/safetensors.h"

namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size > 0) std::fwrite(data, 1, size, f);
  std::fclose(f);
}

/// A scratch folder with one valid shard (tensors "a" F32 [2, 3] and "b" I64 [4]).
const fs::path& folder() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("seer-safetensors-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    seer::model::write_safetensors((d / "model-00001-of-00001.safetensors").string(),
                                   {{"a", at::arange(6, at::kFloat).reshape({2, 3})}, {"b", at::arange(4, at::kLong)}});
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const fs::path& dir = folder();
  try {
    if (data[0] % 2 == 0) {
      const fs::path file = dir / "fuzz.safetensors";
      write(file, data + 1, size - 1);
      seer::model::SafetensorsFile st(file.string());
      for (const auto& [name, entry] : st.entries()) {
        const at::Tensor t = st.tensor(name);
        if (static_cast<uint64_t>(t.numel()) * t.element_size() != entry.end - entry.begin) std::abort();
      }
    } else {
      write(dir / "model.safetensors.index.json", data + 1, size - 1);
      seer::model::CheckpointReader reader(dir.string());
      for (const std::string& name : reader.names()) (void)reader.tensor(name);
    }
  } catch (const seer::Error&) {
    // the contract: a clear error naming the file
  }
  return 0;
}
