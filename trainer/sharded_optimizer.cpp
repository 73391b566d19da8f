#include "trainer/sharded_optimizer.h"

#include <algorithm>
#include <cmath>

#include <ATen/ATen.h>

#include <fmt/ranges.h>

#include "core/check.h"

namespace seer::trainer {

ShardedAdamW::ShardedAdamW(std::map<std::string, at::Tensor> params, const AdamWOptions& options, Communicator& comm)
    : params_(std::move(params)), comm_(comm), options_(options), lr_(options.lr) {
  SEER_CHECK(!params_.empty(), "sharded AdamW: no trainable parameters");
  const auto dtype = params_.begin()->second.scalar_type();
  std::vector<at::Tensor> scales;
  for (const auto& [name, p] : params_) {
    SEER_CHECK(p.scalar_type() == dtype, "sharded AdamW: '{}' is {} but '{}' is {} (one dtype for all parameters)",
               name, c10::toString(p.scalar_type()), params_.begin()->first, c10::toString(dtype));
    total_ += p.numel();
    double scale = 1.0;
    size_t best = 0;
    for (const auto& [prefix, s] : options.lr_scale_by_prefix) {
      if (name.rfind(prefix, 0) == 0 && prefix.size() > best) {
        scale = s;
        best = prefix.size();
      }
    }
    scales.push_back(at::full({p.numel()}, scale, at::TensorOptions().dtype(dtype).device(p.device())));
  }
  const int64_t world = comm_.world_size();
  shard_ = (total_ + world - 1) / world;
  auto flat = at::cat(scales);
  lr_scale_ = at::constant_pad_nd(flat, {0, shard_ * world - total_}, 1.0).narrow(0, comm_.rank() * shard_, shard_).clone();
  exp_avg_ = at::zeros_like(lr_scale_);
  exp_avg_sq_ = at::zeros_like(lr_scale_);
}

at::Tensor ShardedAdamW::shard_of(const std::map<std::string, at::Tensor>& by_name) const {
  // Only the overlap of each tensor with [begin, end) of the flat order is copied: no full-size temporary.
  const auto& options = params_.begin()->second.options();
  at::Tensor out = at::zeros({shard_}, options);
  const int64_t begin = comm_.rank() * shard_, end = begin + shard_;
  int64_t offset = 0;
  for (const auto& [name, p] : params_) {
    const int64_t lo = std::max(begin, offset), hi = std::min(end, offset + p.numel());
    auto it = by_name.find(name);
    if (lo < hi && it != by_name.end() && it->second.defined()) {
      out.narrow(0, lo - begin, hi - lo).copy_(it->second.reshape({-1}).narrow(0, lo - offset, hi - lo));
    }
    offset += p.numel();
  }
  return out;
}

at::Tensor ShardedAdamW::gather(const at::Tensor& shard) {
  at::Tensor all = at::empty({shard_ * comm_.world_size()}, shard.options());
  comm_.all_gather(shard.contiguous(), all);
  return all.narrow(0, 0, total_);
}

double ShardedAdamW::step(double max_norm) {
  // Gradients: every rank's full flat gradient, reduce-scattered into this rank's summed shard. Each gradient is
  // freed once copied, so the flat buffer replaces the gradients instead of doubling them (peak ~4 bytes x
  // trainable elements, not 8); it is freed before the parameters are gathered.
  const int64_t world = comm_.world_size();
  at::Tensor g;
  {
    at::Tensor all = at::zeros({shard_ * world}, params_.begin()->second.options());
    int64_t offset = 0;
    for (auto& [name, p] : params_) {
      if (p.grad().defined()) {
        all.narrow(0, offset, p.numel()).copy_(p.grad().reshape({-1}));
        p.mutable_grad() = at::Tensor();
      }
      offset += p.numel();
    }
    g = at::empty({shard_}, all.options());
    comm_.reduce_scatter_sum(all, g);
  }
  // Global norm: the shards' squared norms summed.
  at::Tensor sq = g.to(at::kDouble).pow(2).sum().reshape({1}).to(at::kCPU);
  comm_.all_reduce_sum(sq);
  const double norm = std::sqrt(sq.item<double>());
  if (max_norm > 0 && norm > max_norm) g.mul_(max_norm / (norm + 1e-6));  // clip_grad_norm's coefficient
  // AdamW on the shard, as torch.optim.AdamW (optimizer.h) computes it.
  ++steps_;
  const double b1 = options_.beta1, b2 = options_.beta2;
  at::Tensor p = shard_of(params_);
  const at::Tensor lr = lr_scale_ * lr_;
  p.mul_(1.0 - lr * options_.weight_decay);
  exp_avg_.mul_(b1).add_(g, 1.0 - b1);
  exp_avg_sq_.mul_(b2).addcmul_(g, g, 1.0 - b2);
  const double bc1 = 1.0 - std::pow(b1, static_cast<double>(steps_));
  const double bc2 = 1.0 - std::pow(b2, static_cast<double>(steps_));
  const at::Tensor denom = (exp_avg_sq_.sqrt() / std::sqrt(bc2)).add_(options_.eps);
  p.sub_(lr / bc1 * exp_avg_ / denom);
  // Parameters: every rank's updated shard, gathered and written back.
  const at::Tensor updated = gather(p);
  at::NoGradGuard no_grad;
  int64_t offset = 0;
  for (auto& [name, param] : params_) {
    param.view({-1}).copy_(updated.narrow(0, offset, param.numel()));
    offset += param.numel();
  }
  return norm;
}

void ShardedAdamW::zero_grad() {
  for (auto& [name, p] : params_) {
    if (p.grad().defined()) p.mutable_grad() = at::Tensor();
  }
}

std::map<std::string, at::Tensor> ShardedAdamW::state() {
  std::map<std::string, at::Tensor> out;
  if (steps_ == 0) return out;
  const at::Tensor m = gather(exp_avg_), v = gather(exp_avg_sq_);
  int64_t offset = 0;
  for (const auto& [name, p] : params_) {
    out["exp_avg/" + name] = m.narrow(0, offset, p.numel()).view(p.sizes()).clone();
    out["exp_avg_sq/" + name] = v.narrow(0, offset, p.numel()).view(p.sizes()).clone();
    out["step/" + name] = at::scalar_tensor(steps_, at::kLong);
    offset += p.numel();
  }
  return out;
}

void ShardedAdamW::load_state(const std::map<std::string, at::Tensor>& state, int64_t steps) {
  std::map<std::string, at::Tensor> m, v;
  for (const auto& [name, p] : params_) {
    for (const auto& [prefix, into] : {std::pair<std::string, std::map<std::string, at::Tensor>*>{"exp_avg/", &m},
                                       std::pair<std::string, std::map<std::string, at::Tensor>*>{"exp_avg_sq/", &v}}) {
      auto it = state.find(prefix + name);
      if (it == state.end()) continue;  // a parameter without state yet (no step taken): zeros
      SEER_CHECK(it->second.sizes() == p.sizes(), "optimizer state '{}{}' has shape {} but the parameter has {}",
                 prefix, name, fmt::join(it->second.sizes(), "x"), fmt::join(p.sizes(), "x"));
      (*into)[name] = it->second;
    }
  }
  exp_avg_ = shard_of(m);
  exp_avg_sq_ = shard_of(v);
  steps_ = steps;
}

}  // namespace seer::trainer
