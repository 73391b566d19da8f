// Rotary position embedding of the decoder, computed once per forward for all layers:
//   1-D (Llama, Qwen2: modeling_llama.py LlamaRotaryEmbedding + apply_rotary_pos_emb): positions (B, T);
//   multimodal (Qwen2-VL M-RoPE: modeling_qwen2_vl.py Qwen2VLRotaryEmbedding + apply_multimodal_rotary_pos_emb):
//   positions (3, B, T) for the (t, h, w) streams, and rotary pair i of the head takes its angle from stream
//   0, 1 or 2 by `mrope_section` (the pair counts of the three streams, summing to d/2).
// Angles and cos/sin in float32 as transformers computes them, then cast to the activations' dtype.
// Internal to model/. Legend: B batch, H heads, T tokens, d head dim.
#pragma once

#include <vector>

#include <torch/types.h>

namespace seer::model {

struct RotaryTable {
  torch::Tensor cos, sin;  ///< (B, 1, T, d) each
};

/// cos/sin of positions (B, T) or (3, B, T) int64 for head dim d and base `theta`. With (3, B, T) positions
/// `mrope_section` must hold 3 counts summing to d/2; with (B, T) it is ignored (all streams equal).
/// Throws seer::Error for other shapes or sections.
RotaryTable rotary_table(const torch::Tensor& positions, int64_t head_dim, double theta,
                         const std::vector<int64_t>& mrope_section, at::ScalarType dtype);

/// x (B, H, T, d) -> x·cos + rotate_half(x)·sin.
torch::Tensor apply_rotary(const torch::Tensor& x, const RotaryTable& table);

}  // namespace seer::model
