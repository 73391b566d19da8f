#include "trainer/weight_store.h"

#include <cstring>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include "core/check.h"

namespace seer::trainer {
namespace {

std::string dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    default: SEER_FAIL("weights: unsupported dtype {} of a trainable tensor", c10::toString(t));
  }
}

uLong crc_bytes(uLong crc, const void* data, size_t n) {
  const auto* p = static_cast<const Bytef*>(data);
  while (n > 0) {  // zlib takes uInt lengths
    const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = ::crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return crc;
}

uLong crc_header(uLong crc, const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape) {
  crc = crc_bytes(crc, name.data(), name.size());
  crc = crc_bytes(crc, "\0", 1);
  crc = crc_bytes(crc, dtype.data(), dtype.size());
  for (int64_t d : shape) crc = crc_bytes(crc, &d, sizeof(d));
  return crc;
}

std::string shape_str(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

at::Tensor host_contiguous(const at::Tensor& t) { return t.detach().to(at::kCPU).contiguous(); }

}  // namespace

int64_t WeightVersion::bytes() const {
  int64_t n = 0;
  for (const auto& t : tensors) n += static_cast<int64_t>(t.bytes.size());
  return n;
}

uint64_t weights_checksum(const std::vector<WeightTensor>& tensors) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  for (const auto& t : tensors) {
    crc = crc_header(crc, t.name, t.dtype, t.shape);
    crc = crc_bytes(crc, t.bytes.data(), t.bytes.size());
  }
  return static_cast<uint64_t>(crc);
}

WeightVersion snapshot_weights(const std::map<std::string, at::Tensor>& params, int64_t version) {
  WeightVersion v;
  v.version = version;
  for (const auto& [name, p] : params) {
    const at::Tensor h = host_contiguous(p);
    WeightTensor t;
    t.name = name;
    t.dtype = dtype_name(h.scalar_type());
    t.shape = h.sizes().vec();
    t.bytes.assign(static_cast<const char*>(h.data_ptr()), static_cast<size_t>(h.nbytes()));
    v.tensors.push_back(std::move(t));
  }
  v.checksum = weights_checksum(v.tensors);
  return v;
}

uint64_t parameters_checksum(const std::map<std::string, at::Tensor>& params, const std::vector<std::string>& names) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  for (const auto& name : names) {
    auto it = params.find(name);
    SEER_CHECK(it != params.end(), "weights: the model has no parameter '{}'", name);
    const at::Tensor h = host_contiguous(it->second);
    crc = crc_header(crc, name, dtype_name(h.scalar_type()), h.sizes().vec());
    crc = crc_bytes(crc, h.data_ptr(), static_cast<size_t>(h.nbytes()));
  }
  return static_cast<uint64_t>(crc);
}

void load_weights(const WeightVersion& v, const std::map<std::string, at::Tensor>& params) {
  for (const auto& t : v.tensors) {  // validate everything first: a half-loaded policy is worse than none
    auto it = params.find(t.name);
    SEER_CHECK(it != params.end(), "weights v{}: the model has no parameter '{}'", v.version, t.name);
    const at::Tensor& p = it->second;
    SEER_CHECK(dtype_name(p.scalar_type()) == t.dtype && p.sizes().vec() == t.shape,
               "weights v{}: '{}' is {} {} here but {} {} in the update", v.version, t.name,
               dtype_name(p.scalar_type()), shape_str(p.sizes().vec()), t.dtype, shape_str(t.shape));
    SEER_CHECK(static_cast<int64_t>(t.bytes.size()) == p.numel() * static_cast<int64_t>(p.element_size()),
               "weights v{}: '{}' has {} bytes, expected {}", v.version, t.name, t.bytes.size(),
               p.numel() * p.element_size());
  }
  at::NoGradGuard no_grad;
  for (const auto& t : v.tensors) {
    at::Tensor p = params.at(t.name);
    at::Tensor src = at::empty(t.shape, at::TensorOptions().dtype(p.scalar_type()));
    std::memcpy(src.data_ptr(), t.bytes.data(), t.bytes.size());
    p.copy_(src);
  }
}

}  // namespace seer::trainer
