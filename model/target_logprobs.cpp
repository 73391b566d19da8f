#include "model/target_logprobs.h"

#include <algorithm>
#include <vector>

#include <torch/torch.h>

#include "core/check.h"
#include "model/activation_checkpoint.h"

namespace seer::model {
namespace {

using Head = std::function<torch::Tensor(const torch::Tensor&)>;

/// One chunk: (k, D) rows -> (k, 1) chosen log-probs, or (k, 2) with the entropy in column 1.
torch::Tensor chunk_values(const Head& head, const torch::Tensor& h, const torch::Tensor& targets, double temperature,
                           bool with_entropy) {
  const torch::Tensor logp = torch::log_softmax(head(h) / temperature, -1);  // (k, V)
  const torch::Tensor chosen = logp.gather(1, targets.unsqueeze(1));        // (k, 1)
  if (!with_entropy) return chosen;
  return torch::cat({chosen, -(logp.exp() * logp).sum(-1, /*keepdim=*/true)}, 1);
}

}  // namespace

TargetLogprobs target_logprobs(const Head& head, const torch::Tensor& hidden, const torch::Tensor& targets,
                               int64_t vocab, double temperature, bool with_entropy, int64_t chunk_bytes) {
  SEER_CHECK(temperature > 0, "token log-probs: temperature must be > 0, got {}", temperature);
  const int64_t rows = hidden.size(0);
  const int64_t per_chunk = chunk_bytes <= 0 ? std::max<int64_t>(rows, 1)
                                             : std::max<int64_t>(1, chunk_bytes / (std::max<int64_t>(vocab, 1) * 4));
  torch::Tensor values;
  if (rows <= per_chunk) {
    values = chunk_values(head, hidden, targets, temperature, with_entropy);
  } else {
    std::vector<torch::Tensor> parts;
    for (int64_t a = 0; a < rows; a += per_chunk) {
      const int64_t k = std::min(per_chunk, rows - a);
      const torch::Tensor t = targets.narrow(0, a, k);
      // Captured by value: the checkpoint keeps the block until backward.
      parts.push_back(checkpointed(
          [head, t, temperature, with_entropy](const torch::Tensor& h) {
            return chunk_values(head, h, t, temperature, with_entropy);
          },
          hidden.narrow(0, a, k)));
    }
    values = torch::cat(parts, 0);
  }
  TargetLogprobs out;
  out.logprobs = values.select(1, 0);
  if (with_entropy) out.entropy = values.select(1, 1);
  return out;
}

}  // namespace seer::model
