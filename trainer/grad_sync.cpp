#include "trainer/grad_sync.h"

#include <chrono>
#include <cmath>

#include <ATen/ATen.h>

#include "trainer/gradient_reducer.h"
#include "trainer/sharded_optimizer.h"

namespace seer::trainer {

double GradSyncStats::bus_bandwidth() const {
  if (world_size < 2 || seconds <= 0) return 0.0;
  const double algbw = static_cast<double>(bytes) / seconds;  // nccl-tests PERFORMANCE.md
  return algbw * 2.0 * (world_size - 1) / world_size;
}

GradSyncStats all_reduce_gradients(const std::vector<at::Tensor>& params, Communicator& comm, int64_t bucket_bytes) {
  GradSyncStats stats;
  std::vector<at::Tensor> grads;
  for (const auto& p : params) {
    at::Tensor g = p.grad();
    if (!g.defined()) {
      g = at::zeros_like(p);
      p.mutable_grad() = g;
    }
    grads.push_back(g);
  }
  const auto t0 = std::chrono::steady_clock::now();
  size_t i = 0;
  while (i < grads.size()) {
    // A bucket: consecutive gradients of one dtype and device up to bucket_bytes (at least one).
    size_t j = i;
    int64_t bytes = 0;
    while (j < grads.size() && grads[j].scalar_type() == grads[i].scalar_type() &&
           grads[j].device() == grads[i].device() &&
           (j == i || bytes + grads[j].numel() * static_cast<int64_t>(grads[j].element_size()) <= bucket_bytes)) {
      bytes += grads[j].numel() * static_cast<int64_t>(grads[j].element_size());
      ++j;
    }
    std::vector<at::Tensor> flat;
    for (size_t k = i; k < j; ++k) flat.push_back(grads[k].reshape({-1}));
    at::Tensor bucket = at::cat(flat);
    comm.all_reduce_sum(bucket);
    int64_t offset = 0;
    for (size_t k = i; k < j; ++k) {
      const int64_t n = grads[k].numel();
      grads[k].copy_(bucket.narrow(0, offset, n).view_as(grads[k]));
      offset += n;
    }
    stats.bytes += bytes;
    ++stats.buckets;
    i = j;
  }
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stats.world_size = comm.world_size();
  return stats;
}

double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm) {
  double sq = 0;
  for (const auto& p : params) {
    if (p.grad().defined()) sq += p.grad().to(at::kDouble).pow(2).sum().item<double>();
  }
  const double norm = std::sqrt(sq);
  if (max_norm > 0 && norm > max_norm) {
    const double scale = max_norm / (norm + 1e-6);
    for (const auto& p : params) {
      if (p.grad().defined()) p.grad().mul_(scale);
    }
  }
  return norm;
}

GradientStepStats apply_gradients(AdamW& optimizer, Communicator& comm, double max_norm, int64_t bucket_bytes,
                                  GradientReducer* reducer) {
  GradientStepStats out;
  if (ShardedAdamW* sharded = optimizer.sharded()) {
    const auto t0 = std::chrono::steady_clock::now();
    out.grad_norm = sharded->step(max_norm);
    sharded->zero_grad();
    out.sync.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.sync.world_size = comm.world_size();
    return out;
  }
  std::vector<at::Tensor> params;
  for (const auto& [name, p] : optimizer.params()) params.push_back(p);
  out.sync = reducer != nullptr ? reducer->finish() : all_reduce_gradients(params, comm, bucket_bytes);
  out.grad_norm = clip_grad_norm(params, max_norm);
  optimizer.step();
  if (reducer != nullptr) {
    reducer->zero();
  } else {
    optimizer.zero_grad();
  }
  return out;
}

}  // namespace seer::trainer
