#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <ATen/Functions.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/check.h"
#include "core/progress.h"

namespace seer::model {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct DtypeInfo {
  const char* name;
  at::ScalarType type;
  size_t bytes;
};
constexpr DtypeInfo kDtypes[] = {
    {"F32", at::kFloat, 4}, {"F16", at::kHalf, 2}, {"BF16", at::kBFloat16, 2}, {"F64", at::kDouble, 8},
    {"I64", at::kLong, 8},  {"I32", at::kInt, 4},  {"I16", at::kShort, 2},     {"I8", at::kChar, 1},
    {"U8", at::kByte, 1},   {"BOOL", at::kBool, 1}};

const DtypeInfo* dtype_by_name(const std::string& name) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

const DtypeInfo* dtype_by_type(at::ScalarType t) {
  for (const auto& d : kDtypes) {
    if (t == d.type) return &d;
  }
  return nullptr;
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  SEER_CHECK(fd >= 0, "{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    SEER_FAIL("{}: not a regular file", path);
  }
  map_size_ = static_cast<size_t>(st.st_size);
  if (map_size_ < 8) {
    ::close(fd);
    SEER_FAIL("{}: truncated safetensors file ({} bytes; the 8-byte header length is missing)", path, map_size_);
  }
  map_ = ::mmap(nullptr, map_size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  SEER_CHECK(map_ != MAP_FAILED, "{}: cannot map: {}", path, std::strerror(errno));
  const auto* bytes = static_cast<const uint8_t*>(map_);
  try {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
    SEER_CHECK(n <= map_size_ - 8, "{}: header length {} runs past the end of the file ({} bytes): truncated or not "
                                   "a safetensors file", path, n, map_size_);
    SEER_CHECK(n <= kMaxHeaderBytes, "{}: header length {} exceeds the 100 MB limit", path, n);
    data_ = bytes + 8 + n;
    data_size_ = map_size_ - 8 - n;
    nlohmann::json header;
    try {
      header = nlohmann::json::parse(bytes + 8, bytes + 8 + n);
    } catch (const nlohmann::json::exception& e) {
      SEER_FAIL("{}: header is not valid UTF-8 JSON: {}", path, e.what());
    }
    SEER_CHECK(header.is_object(), "{}: header must be a JSON object", path);
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    std::vector<std::string> range_names;
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") {
        SEER_CHECK(it->is_object(), "{}: __metadata__ must be an object of strings", path);
        for (auto m = it->begin(); m != it->end(); ++m) {
          SEER_CHECK(m->is_string(), "{}: __metadata__['{}'] must be a string", path, m.key());
          metadata_[m.key()] = m->get<std::string>();
        }
        continue;
      }
      const std::string& name = it.key();
      const auto& v = *it;
      SEER_CHECK(v.is_object() && v.contains("dtype") && v.contains("shape") && v.contains("data_offsets"),
                 "{}: tensor '{}': needs dtype, shape and data_offsets", path, name);
      SEER_CHECK(v["dtype"].is_string(), "{}: tensor '{}': dtype must be a string", path, name);
      TensorEntry e;
      e.dtype = v["dtype"].get<std::string>();
      const DtypeInfo* d = dtype_by_name(e.dtype);
      SEER_CHECK(d != nullptr, "{}: tensor '{}': unknown dtype '{}'", path, name, e.dtype);
      SEER_CHECK(v["shape"].is_array(), "{}: tensor '{}': shape must be a list", path, name);
      uint64_t numel = 1;
      for (const auto& dim : v["shape"]) {
        SEER_CHECK(dim.is_number_unsigned() || (dim.is_number_integer() && dim.get<int64_t>() >= 0),
                   "{}: tensor '{}': shape entries must be non-negative integers", path, name);
        const uint64_t x = dim.get<uint64_t>();
        SEER_CHECK(x == 0 || numel <= (uint64_t{1} << 60) / x, "{}: tensor '{}': shape overflows", path, name);
        numel *= x;
        e.shape.push_back(static_cast<int64_t>(x));
      }
      const auto& off = v["data_offsets"];
      SEER_CHECK(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() && off[1].is_number_unsigned(),
                 "{}: tensor '{}': data_offsets must be two non-negative integers", path, name);
      e.begin = off[0].get<uint64_t>();
      e.end = off[1].get<uint64_t>();
      SEER_CHECK(e.begin <= e.end && e.end <= data_size_,
                 "{}: tensor '{}': data_offsets [{}, {}] outside the data section of {} bytes", path, name, e.begin,
                 e.end, data_size_);
      SEER_CHECK(e.end - e.begin == numel * d->bytes,
                 "{}: tensor '{}': {} bytes for shape with {} elements of {} ({} bytes expected)", path, name,
                 e.end - e.begin, numel, e.dtype, numel * d->bytes);
      ranges.emplace_back(e.begin, e.end);
      range_names.push_back(name);
      entries_.emplace(name, std::move(e));
    }
    std::vector<size_t> order(ranges.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ranges[a] < ranges[b]; });
    for (size_t k = 1; k < order.size(); ++k) {
      const auto& prev = ranges[order[k - 1]];
      const auto& cur = ranges[order[k]];
      SEER_CHECK(cur.first >= prev.second || cur.first == cur.second || prev.first == prev.second,
                 "{}: tensors '{}' and '{}' overlap in the data section", path, range_names[order[k - 1]],
                 range_names[order[k]]);
    }
  } catch (...) {
    ::munmap(map_, map_size_);
    map_ = nullptr;
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

at::Tensor SafetensorsFile::tensor(const std::string& name) const {
  auto it = entries_.find(name);
  SEER_CHECK(it != entries_.end(), "{}: no tensor named '{}'", path_, name);
  const TensorEntry& e = it->second;
  const DtypeInfo* d = dtype_by_name(e.dtype);
  at::Tensor out = at::empty(e.shape, at::TensorOptions().dtype(d->type));
  if (e.end > e.begin) std::memcpy(out.data_ptr(), data_ + e.begin, e.end - e.begin);
  return out;
}

CheckpointReader::CheckpointReader(const std::string& dir) : dir_(dir) {
  namespace fs = std::filesystem;
  const fs::path index = fs::path(dir) / "model.safetensors.index.json";
  const fs::path single = fs::path(dir) / "model.safetensors";
  if (fs::exists(index)) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file(index.string()));
    } catch (const nlohmann::json::exception& e) {
      SEER_FAIL("{}: not valid JSON: {}", index.string(), e.what());
    }
    SEER_CHECK(j.contains("weight_map") && j["weight_map"].is_object(), "{}: has no weight_map object",
               index.string());
    std::map<std::string, const SafetensorsFile*> by_file;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      SEER_CHECK(it->is_string(), "{}: weight_map['{}'] must be a file name", index.string(), it.key());
      const std::string file = it->get<std::string>();
      SEER_CHECK(file.find('/') == std::string::npos && file != ".." && !file.empty(),
                 "{}: weight_map['{}'] = '{}' must be a file in the same folder", index.string(), it.key(), file);
      auto f = by_file.find(file);
      if (f == by_file.end()) {
        files_.push_back(std::make_unique<SafetensorsFile>((fs::path(dir) / file).string()));
        f = by_file.emplace(file, files_.back().get()).first;
      }
      SEER_CHECK(f->second->contains(it.key()), "{}: index says '{}' is in {}, but it is not there", index.string(),
                 it.key(), file);
      where_[it.key()] = f->second;
    }
  } else {
    SEER_CHECK(fs::exists(single), "{}: no model.safetensors or model.safetensors.index.json", dir);
    files_.push_back(std::make_unique<SafetensorsFile>(single.string()));
    for (const auto& [name, e] : files_.back()->entries()) where_[name] = files_.back().get();
  }
}

std::vector<std::string> CheckpointReader::names() const {
  std::vector<std::string> out;
  for (const auto& [name, f] : where_) out.push_back(name);
  return out;
}

const TensorEntry* CheckpointReader::entry(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) return nullptr;
  return &it->second->entries().at(name);
}

at::Tensor CheckpointReader::tensor(const std::string& name) const {
  auto it = where_.find(name);
  SEER_CHECK(it != where_.end(), "{}: checkpoint has no tensor '{}'", dir_, name);
  return it->second->tensor(name);
}

void write_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> contiguous;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    const DtypeInfo* d = dtype_by_type(t.scalar_type());
    SEER_CHECK(d != nullptr, "{}: tensor '{}' has dtype {} which safetensors cannot hold", path, name,
               c10::toString(t.scalar_type()));
    at::Tensor c = t.detach().to(at::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(c.numel()) * d->bytes;
    header[name] = {{"dtype", d->name}, {"shape", c.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    contiguous.push_back(std::move(c));
  }
  std::string head = header.dump();
  while ((head.size() + 8) % 8 != 0) head += ' ';  // the data section starts 8-byte aligned
  std::string blob;
  blob.reserve(8 + head.size() + offset);
  const uint64_t n = head.size();
  for (int i = 0; i < 8; ++i) blob += static_cast<char>((n >> (8 * i)) & 0xff);
  blob += head;
  Progress progress("writing " + path, static_cast<int64_t>(offset), "MiB", 1 << 20);
  for (const auto& c : contiguous) {
    blob.append(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel()) * c.element_size());
    progress.add(static_cast<int64_t>(c.numel()) * static_cast<int64_t>(c.element_size()));
  }
  write_file_atomic(path, blob);
}

void write_checkpoint_tensors(const std::string& dir, const std::map<std::string, at::Tensor>& tensors,
                              int64_t max_shard_bytes) {
  namespace fs = std::filesystem;
  int64_t total = 0;
  for (const auto& [name, t] : tensors) total += t.numel() * static_cast<int64_t>(t.element_size());
  std::error_code ec;
  if (max_shard_bytes <= 0 || total <= max_shard_bytes) {
    write_safetensors((fs::path(dir) / "model.safetensors").string(), tensors);
    fs::remove(fs::path(dir) / "model.safetensors.index.json", ec);  // a stale index would shadow the file
    return;
  }
  std::vector<std::map<std::string, at::Tensor>> shards(1);
  int64_t in_shard = 0;
  for (const auto& [name, t] : tensors) {
    const int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
    if (in_shard > 0 && in_shard + bytes > max_shard_bytes) {
      shards.emplace_back();
      in_shard = 0;
    }
    shards.back()[name] = t;
    in_shard += bytes;
  }
  nlohmann::json index;
  index["metadata"] = {{"total_size", total}};
  index["weight_map"] = nlohmann::json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    char file[64];
    std::snprintf(file, sizeof(file), "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    write_safetensors((fs::path(dir) / file).string(), shards[i]);
    for (const auto& [name, t] : shards[i]) index["weight_map"][name] = file;
  }
  write_file_atomic((fs::path(dir) / "model.safetensors.index.json").string(), index.dump(2) + "\n");
  fs::remove(fs::path(dir) / "model.safetensors", ec);
}

}  // namespace seer::model
