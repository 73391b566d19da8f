// Qwen2-VL's multimodal rotary position ids (modeling_qwen2_vl.py v4.45, Qwen2VLForConditionalGeneration.
// get_rope_index, images only): text tokens advance all three streams (t, h, w) together; the tokens of an
// image take (first + frame, first + row, first + column) of its merged patch grid, and the text after it
// continues from the largest position used + 1. Decode steps then use cache position + rope delta on all
// three streams. Internal to model/.
#pragma once

#include <vector>

#include <torch/types.h>

#include "model/qwen2vl_vision.h"

namespace seer::model {

struct MultimodalPositions {
  torch::Tensor positions;  ///< (3, B, T) int64; padding positions hold 1, as transformers fills them
  torch::Tensor deltas;     ///< (B, 1) int64: max position + 1 - T (the decode-step offset, rope_deltas)
};

/// ids (B, T) int64 and attention_mask (B, T) {0,1} (padding anywhere), `grids` the image_grid_thw of every
/// image in the batch in reading order (row 0's images first). An image is a run of `image_token_id` tokens
/// of length t·(h/merge)·(w/merge). Throws seer::Error when the image tokens and the grids disagree (count
/// or run length), naming the row.
MultimodalPositions multimodal_positions(const torch::Tensor& ids, const torch::Tensor& attention_mask,
                                         const std::vector<GridThw>& grids, int64_t merge_size,
                                         int64_t image_token_id);

}  // namespace seer::model
