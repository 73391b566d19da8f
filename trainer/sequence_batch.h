// Training sequences and their collation into padded micro-batches. A sequence is prompt + response
// token ids with a target mask (SFT: assistant tokens; GRPO: the completion), and the indexes of its
// prompt's images in a per-step list of vision features, so the vision tower runs once per image per step.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace seer::trainer {

struct Sequence {
  std::vector<int32_t> ids;     ///< whole sequence, image placeholders expanded
  std::vector<uint8_t> target;  ///< 1 = a trained token (predicted from the previous one); same length as ids
  std::vector<int64_t> images;  ///< indexes into the step's image list, in prompt order; empty = text only
};

struct MicroBatch {
  at::Tensor ids;        ///< (B, T) int64, right-padded with the pad id
  at::Tensor attention;  ///< (B, T) bool
  at::Tensor target;     ///< (B, T) bool
  at::Tensor images;     ///< (ΣF, D_v) selected vision features of the sequences' images, rows in row order; undefined = none
  int64_t tokens = 0;    ///< target tokens in the micro-batch
};

/// Collates `sequences[begin, end)`. `image_features` holds one (1, F, D_v) tensor per image index (F may differ).
/// Throws seer::Error when a sequence's ids and target differ in length or an image index is out of range.
MicroBatch collate(const std::vector<Sequence>& sequences, size_t begin, size_t end,
                   const std::vector<at::Tensor>& image_features, int64_t pad_id);

/// Indexes `begin`..`end`-1 ordered longest sequence first (stable: equal lengths keep their order). Micro-batches
/// cut from consecutive indexes then hold sequences of similar length, so little padding is computed (length
/// bucketing; the longest micro-batch comes first, so a memory limit is met on the first pass). A step's loss is a
/// sum over micro-batches with a denominator fixed for the whole step, so its gradient does not depend on this
/// order; only the floating-point summation order changes.
std::vector<size_t> length_order(const std::vector<Sequence>& sequences, size_t begin, size_t end);

/// Indexes `begin`..`end`-1 with each group's sequences together (group[i] names sequence i's group), groups
/// ordered by their longest sequence and sequences inside a group longest first (both stable). Micro-batches then
/// hold few prompts, each computed once for its samples (model::SharedPrompts), and little padding.
std::vector<size_t> group_length_order(const std::vector<Sequence>& sequences, const std::vector<int64_t>& group,
                                       size_t begin, size_t end);
/// Target tokens over all `sequences`.
int64_t count_targets(const std::vector<Sequence>& sequences);

}  // namespace seer::trainer
