#include "trainer/gradient_reducer.h"

#include <chrono>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include "core/check.h"

namespace seer::trainer {
namespace {

/// Runs `fn` after the node it hangs on (a leaf's AccumulateGrad) has run: the gradient is then in .grad.
/// (LibTorch's LambdaPostHook would do, but its 2.x header pulls in the dynamo compiler's.)
class AfterAccumulation final : public torch::autograd::FunctionPostHook {
 public:
  explicit AfterAccumulation(std::function<void()> fn) : fn_(std::move(fn)) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    fn_();
    return outputs;
  }

 private:
  std::function<void()> fn_;
};

}  // namespace

GradientReducer::GradientReducer(const std::vector<at::Tensor>& params, Communicator& comm, int64_t bucket_bytes)
    : comm_(comm), params_(params.rbegin(), params.rend()) {
  const size_t n = params_.size();
  bucket_of_.assign(n, 0);
  done_.assign(n, false);
  views_.resize(n);
  for (size_t k = 0; k < n; ++k) {
    SEER_CHECK(params_[k].requires_grad() && params_[k].is_leaf(), "gradient reducer: parameter {} is not a trainable leaf", k);
  }
  size_t i = 0;
  while (i < n) {
    Bucket b;
    int64_t numel = 0, bytes = 0;
    size_t j = i;
    while (j < n && params_[j].scalar_type() == params_[i].scalar_type() && params_[j].device() == params_[i].device() &&
           (j == i || bytes + params_[j].numel() * static_cast<int64_t>(params_[j].element_size()) <= bucket_bytes)) {
      bytes += params_[j].numel() * static_cast<int64_t>(params_[j].element_size());
      numel += params_[j].numel();
      b.members.push_back(j);
      bucket_of_[j] = buckets_.size();
      ++j;
    }
    b.flat = at::zeros({numel}, params_[i].options().requires_grad(false));
    int64_t offset = 0;
    for (size_t k : b.members) {
      views_[k] = b.flat.narrow(0, offset, params_[k].numel()).view(params_[k].sizes());
      offset += params_[k].numel();
    }
    buckets_.push_back(std::move(b));
    i = j;
  }
  zero();
  for (size_t k = 0; k < n; ++k) {
    // The AccumulateGrad node of the leaf: its post-hook runs once the gradient is accumulated into .grad. The
    // node is kept alive by the lambda that removes the hook (a leaf holds it only weakly).
    auto accumulator = torch::autograd::impl::grad_accumulator(params_[k]);
    SEER_CHECK(accumulator, "gradient reducer: parameter {} has no gradient accumulator", k);
    const uintptr_t key = accumulator->add_post_hook(std::make_unique<AfterAccumulation>([this, k] { on_accumulated(k); }));
    unhook_.push_back([accumulator, key] { accumulator->del_post_hook(key); });
  }
  stats_.world_size = comm_.world_size();
}

GradientReducer::~GradientReducer() {
  for (auto& u : unhook_) u();
}

void GradientReducer::zero() {
  for (auto& b : buckets_) {
    b.flat.zero_();
    b.pending = static_cast<int>(b.members.size());
    b.reduced = false;
  }
  for (size_t k = 0; k < params_.size(); ++k) {
    if (!params_[k].grad().defined() || params_[k].grad().data_ptr() != views_[k].data_ptr()) {
      params_[k].mutable_grad() = views_[k];
    }
    done_[k] = false;
  }
  next_ = 0;
  late_.clear();
}

void GradientReducer::arm() {
  armed_ = true;
  stats_ = GradSyncStats{};
  stats_.world_size = comm_.world_size();
  busy_seconds_ = 0;
  overlapped_ = 0;
}

void GradientReducer::on_accumulated(size_t param) {
  if (!armed_) return;
  Bucket& b = buckets_[bucket_of_[param]];
  if (b.reduced) {
    late_ = std::to_string(param);
    return;
  }
  if (done_[param]) return;  // accumulated again before its bucket went out: still counted once
  done_[param] = true;
  if (--b.pending == 0) launch_ready();
}

void GradientReducer::launch_ready() {
  while (next_ < buckets_.size() && buckets_[next_].pending == 0) reduce(buckets_[next_++]);
}

void GradientReducer::reduce(Bucket& b) {
  const auto t0 = std::chrono::steady_clock::now();
  comm_.all_reduce_sum(b.flat);
  b.reduced = true;
  stats_.bytes += b.flat.numel() * static_cast<int64_t>(b.flat.element_size());
  ++stats_.buckets;
  if (!finishing_) ++overlapped_;
  busy_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

GradSyncStats GradientReducer::finish() {
  for (size_t k = 0; k < params_.size(); ++k) {
    SEER_CHECK(params_[k].grad().defined() && params_[k].grad().data_ptr() == views_[k].data_ptr(),
               "gradient reducer: the gradient of parameter {} left its bucket (a .grad was replaced)", k);
  }
  for (auto& b : buckets_) b.pending = 0;  // what backward did not complete (unused, or no data here) goes now
  finishing_ = true;
  launch_ready();
  finishing_ = false;
  armed_ = false;
  SEER_CHECK(late_.empty(), "gradient reducer: parameter {} received gradient after its bucket was reduced", late_);
  stats_.seconds = busy_seconds_;
  return stats_;
}

}  // namespace seer::trainer
