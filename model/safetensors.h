// Reading and writing the safetensors format (https://github.com/huggingface/safetensors, "Format"):
// an 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}, ...,
// "__metadata__": {str: str}}, then the tensor bytes. Also sharded checkpoints
// (model.safetensors.index.json). Every malformed file is an seer::Error naming the file and tensor,
// never a crash or an out-of-bounds read.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace seer::model {

/// Where one tensor lives in a safetensors file.
struct TensorEntry {
  std::string dtype;             ///< "F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL"
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;   ///< byte offsets relative to the start of the data section
};

/// A validated, memory-mapped safetensors file. Thread-safe for concurrent reads.
class SafetensorsFile {
 public:
  /// Maps `path` and validates the header: length within the file, UTF-8 JSON object, known dtypes,
  /// non-negative shapes, offsets inside the data section, size = numel x element size, no overlaps.
  /// Throws seer::Error naming the file (and tensor) otherwise.
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorEntry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }

  /// A CPU tensor (owning a copy) with the file's dtype and shape. Throws seer::Error if absent.
  at::Tensor tensor(const std::string& name) const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;  ///< start of the data section inside the mapping
  size_t data_size_ = 0;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  std::map<std::string, TensorEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

/// The tensors of a checkpoint folder: model.safetensors, or the shards named by
/// model.safetensors.index.json. Throws seer::Error when neither exists or a shard is missing.
class CheckpointReader {
 public:
  explicit CheckpointReader(const std::string& dir);
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const { return where_.count(name) != 0; }
  at::Tensor tensor(const std::string& name) const;
  /// The header entry of `name` (dtype, shape, byte range), read without touching tensor data; nullptr when
  /// absent. Lets `seer check` compare a 7B checkpoint with its config in milliseconds.
  const TensorEntry* entry(const std::string& name) const;

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*> where_;
};

/// Writes `tensors` (any CPU/GPU tensors of a supported dtype; made contiguous) to `path` through a temp
/// file and rename. `metadata` goes to "__metadata__". Throws seer::Error on I/O failure or an
/// unsupported dtype.
void write_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

/// Writes a checkpoint folder's weights: one model.safetensors, or shards of at most `max_shard_bytes`
/// (model-00001-of-0000N.safetensors + model.safetensors.index.json, the index written last).
void write_checkpoint_tensors(const std::string& dir, const std::map<std::string, at::Tensor>& tensors,
                              int64_t max_shard_bytes = 0);

}  // namespace seer::model
