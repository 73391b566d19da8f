// One supervised fine-tuning step on this rank's share of a batch: token-level cross-entropy on the
// target (assistant) tokens, normalised by the global target count (transformers' LlavaForConditionalGeneration
// loss: mean over labels != -100 of the whole batch), gradients all-reduced and clipped, one AdamW step.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "trainer/communicator.h"
#include "trainer/gradient_reducer.h"
#include "trainer/sequence_batch.h"

namespace seer::model { class Vlm; }

namespace seer::trainer {

class AdamW;

struct SftUpdateOptions {
  int64_t micro_batch_size = 4;
  double max_grad_norm = 1.0;
  int64_t bucket_bytes = 25 << 20;
  GradientReducer* reducer = nullptr;  ///< overlapped all-reduce (trainer.overlap_allreduce); null = after backward
  int64_t pad_id = 0;
};

struct SftUpdateStats {  ///< global values
  double loss = 0;       ///< mean negative log-likelihood per target token
  double tokens = 0, sequences = 0;
  double grad_norm = 0;  ///< before clipping
  double seconds_forward_backward = 0, seconds_allreduce = 0;
  double allreduce_bus_bandwidth = 0;
};

/// `local`: this rank's sequences; `pixel_values`: one (1, ...) image tensor (vlm.h) per image index they use.
SftUpdateStats sft_update(model::Vlm& policy, AdamW& optimizer, Communicator& comm, const std::vector<Sequence>& local,
                          const std::vector<at::Tensor>& pixel_values, const SftUpdateOptions& options);

}  // namespace seer::trainer
