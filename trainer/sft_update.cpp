#include "trainer/sft_update.h"

#include <chrono>

#include <torch/torch.h>

#include "core/check.h"
#include "model/vlm.h"
#include "trainer/grad_sync.h"
#include "trainer/optimizer.h"

namespace seer::trainer {

SftUpdateStats sft_update(model::Vlm& policy, AdamW& optimizer, Communicator& comm, const std::vector<Sequence>& local,
                          const std::vector<at::Tensor>& pixel_values, const SftUpdateOptions& o) {
  SEER_CHECK(o.micro_batch_size >= 1, "sft_update: micro_batch_size must be >= 1");
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  SftUpdateStats st;
  at::Tensor counts = at::tensor(std::vector<double>{static_cast<double>(count_targets(local)),
                                                     static_cast<double>(local.size())}, at::kDouble);
  comm.all_reduce_sum(counts);
  st.tokens = counts[0].item<double>();
  st.sequences = counts[1].item<double>();
  const double denom = std::max(1.0, st.tokens);

  const bool frozen = policy.vision_frozen();
  std::vector<at::Tensor> vision;
  if (frozen) {
    for (const auto& px : pixel_values) vision.push_back(policy.vision_features(px));
  }
  // Length bucketing (sequence_batch.h length_order): micro-batches of similar lengths, little padding computed.
  std::vector<Sequence> sorted;
  sorted.reserve(local.size());
  for (size_t i : length_order(local, 0, local.size())) sorted.push_back(local[i]);
  double loss_sum = 0;
  for (size_t b = 0; b < sorted.size(); b += static_cast<size_t>(o.micro_batch_size)) {
    const size_t e = std::min(sorted.size(), b + static_cast<size_t>(o.micro_batch_size));
    MicroBatch mb = collate(sorted, b, e, frozen ? vision : std::vector<at::Tensor>(pixel_values.size()), o.pad_id);
    std::vector<at::Tensor> px;  // the rows' images in row order
    for (size_t i = b; i < e; ++i) {
      for (int64_t image : sorted[i].images) px.push_back(pixel_values[static_cast<size_t>(image)]);
    }
    at::Tensor feats;
    if (frozen && mb.images.defined()) {
      feats = policy.project(mb.images);
    } else if (!frozen && !px.empty()) {
      feats = at::cat(policy.image_features(px), 0);
    }
    auto lp = policy.token_logprobs(mb.ids, mb.attention, feats, mb.target, 1.0, false,
                                    policy.positions(mb.ids, mb.attention, px));
    at::Tensor loss = -lp.logprobs.sum() / denom;
    if (o.reducer != nullptr && e == sorted.size()) o.reducer->arm();  // the last backward: reduce as it goes
    loss.backward();
    loss_sum += loss.item<double>();
  }
  st.seconds_forward_backward = std::chrono::duration<double>(Clock::now() - t0).count();
  const GradientStepStats g = apply_gradients(optimizer, comm, o.max_grad_norm, o.bucket_bytes, o.reducer);
  st.seconds_allreduce = g.sync.seconds;
  st.allreduce_bus_bandwidth = g.sync.bus_bandwidth();
  st.grad_norm = g.grad_norm;
  at::Tensor l = at::tensor(std::vector<double>{loss_sum}, at::kDouble);
  comm.all_reduce_sum(l);
  st.loss = l[0].item<double>();
  return st;
}

}  // namespace seer::trainer
