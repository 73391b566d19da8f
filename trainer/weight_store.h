// A published policy version as plain bytes: the trainable tensors (name order, CPU, contiguous) with a
// checksum over names and bytes, so a rollout worker can prove it runs exactly the learner's weights.
// Rank 0 snapshots after every update; the coordinator streams the newest snapshot in chunks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace seer::trainer {

struct WeightTensor {
  std::string name;            ///< parameter name (HF tensor name within the Vlm)
  std::string dtype;           ///< float32 | float64 | bfloat16 | float16
  std::vector<int64_t> shape;
  std::string bytes;           ///< little-endian element bytes, row-major
};

struct WeightVersion {
  int64_t version = 0;
  std::vector<WeightTensor> tensors;  ///< name order
  uint64_t checksum = 0;              ///< weights_checksum(tensors)
  int64_t bytes() const;
};

/// CRC-32 (IEEE, zlib) over each tensor's name, dtype, shape and bytes, in the given order.
uint64_t weights_checksum(const std::vector<WeightTensor>& tensors);

/// Copies `params` (name -> tensor, any device) into a version. Throws seer::Error for an unsupported dtype.
WeightVersion snapshot_weights(const std::map<std::string, at::Tensor>& params, int64_t version);

/// The same checksum computed from live parameters (only the names in `names`, in that order): what a worker
/// reports after loading. Throws seer::Error naming a parameter the model does not have.
uint64_t parameters_checksum(const std::map<std::string, at::Tensor>& params, const std::vector<std::string>& names);

/// Copies every tensor of `v` into the same-named parameter of `params` (no autograd). Throws seer::Error
/// naming the tensor when a name is unknown, or the dtype or shape differs, before anything is changed.
void load_weights(const WeightVersion& v, const std::map<std::string, at::Tensor>& params);

}  // namespace seer::trainer
