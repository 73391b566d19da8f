// The key/value cache of the decoder: per layer K and V of shape (B, Hkv, Tmax, d), filled up to `length`
// positions (the same for every row; prompts are left-padded so new tokens share one column).
#pragma once

#include <vector>

#include <ATen/core/Tensor.h>

namespace seer::model {

struct KvCache {
  std::vector<at::Tensor> k, v;  ///< per layer (B, Hkv, Tmax, d); keys are stored after RoPE
  at::Tensor valid;              ///< (B, Tmax) bool: which cached positions are real tokens (not padding)
  int64_t length = 0;            ///< filled positions
  int64_t capacity() const { return valid.defined() ? valid.size(1) : 0; }
  int64_t rows() const { return valid.defined() ? valid.size(0) : 0; }
};

/// Keys and values of prompts that consecutive rows of a batch share (a GRPO group's G samples of one prompt):
/// computed once per prompt and read by every row of its run, so the prompt's tokens are neither recomputed nor
/// copied per row (the shared-prefix forward of Prefix Grouper, Liu et al. 2025, arXiv:2506.05433). Every
/// query of a row sits after all of its prompt's keys, so only the prompt's padding is masked.
struct SharedKv {
  std::vector<at::Tensor> k, v;  ///< per layer (U, Hkv, Tp, d); keys after RoPE
  at::Tensor valid;              ///< (U, Tp) bool: real prompt tokens (padding anywhere)
  std::vector<int64_t> rows;     ///< per prompt: how many consecutive batch rows read it (sum = batch rows)
};

/// The first `length` positions of `cache` as a SharedKv whose prompt u is read by rows[u] consecutive rows.
SharedKv share_cache(const KvCache& cache, int64_t length, std::vector<int64_t> rows);

/// An empty cache for `layers` layers, `rows` sequences and up to `capacity` positions.
KvCache make_kv_cache(int64_t layers, int64_t rows, int64_t kv_heads, int64_t head_dim, int64_t capacity,
                      const at::TensorOptions& options);

}  // namespace seer::model
