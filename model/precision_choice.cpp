#include "model/precision_choice.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "model/linear.h"
#include "model/vlm.h"

namespace seer::model {
namespace {

/// Restores the process's compute dtype when it goes out of scope.
class DtypeScope {
 public:
  DtypeScope() : saved_(compute_dtype()) {}
  ~DtypeScope() { set_compute_dtype(saved_); }
  DtypeScope(const DtypeScope&) = delete;
  DtypeScope& operator=(const DtypeScope&) = delete;

 private:
  at::ScalarType saved_;
};

}  // namespace

double measure_bf16_speedup(const torch::Device& device, int64_t features, int64_t rows) {
  DtypeScope restore;
  torch::NoGradGuard no_grad;
  const auto f32 = torch::TensorOptions().device(device).dtype(torch::kFloat);
  const torch::Tensor x = torch::randn({rows, features}, f32), w = torch::randn({features, features}, f32) * 0.02;
  // Both sides through seer's linear as the model calls it: float32 inputs and weights, and with bf16 the casts
  // of both at every call (what a decode step pays per weight) and the float32 result.
  auto time = [&](at::ScalarType dtype) {
    set_compute_dtype(dtype);
    double best = 1e30;
    for (int rep = 0; rep < 5; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      torch::Tensor y;
      for (int k = 0; k < 4; ++k) y = model::linear(x, w, torch::Tensor());
      (void)y[0][0].item<float>();  // waits for a device that runs asynchronously
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
  };
  time(at::kFloat);  // warm-up of both paths
  time(at::kBFloat16);
  return time(at::kFloat) / std::max(time(at::kBFloat16), 1e-12);
}

double bf16_logprob_mismatch(Vlm& m, uint64_t seed) {
  DtypeScope restore;
  torch::NoGradGuard no_grad;
  const int64_t vocab = std::min<int64_t>(m.config().text.vocab_size, 1000);
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const torch::Tensor ids = torch::randint(0, vocab, {2, 48}, gen, torch::kLong);
  const torch::Tensor attention = torch::ones({2, 48}, torch::kLong);
  torch::Tensor target = torch::zeros({2, 48}, torch::kBool);
  target.narrow(1, 8, 40).fill_(true);
  auto logprobs = [&](at::ScalarType dtype) {
    set_compute_dtype(dtype);
    return m.token_logprobs(ids, attention, torch::Tensor(), target, 1.0).logprobs.to(torch::kCPU, torch::kDouble);
  };
  const torch::Tensor exact = logprobs(torch::kFloat), bf16 = logprobs(torch::kBFloat16);
  return ((bf16 - exact).abs().sum() / target.sum()).item<double>();
}

PrecisionChoice decide_precision(double speedup, const std::function<double()>& mismatch, const std::string& device) {
  PrecisionChoice c;
  c.speedup = speedup;
  if (c.speedup < kBf16MinSpeedup) {
    c.why = fmt::format("float32: bf16 products measured {:.2f}x float32 on {} (auto needs {:.1f}x: no native bf16)",
                        c.speedup, device, kBf16MinSpeedup);
    return c;
  }
  c.mismatch = mismatch();
  if (c.mismatch > kBf16MaxLogprobMismatch) {
    c.why = fmt::format("float32: bf16 products are {:.2f}x faster on {}, but move this model's log-probs by {:.4f} "
                        "nats per token on a probe batch (auto allows {})",
                        c.speedup, device, c.mismatch, kBf16MaxLogprobMismatch);
    return c;
  }
  c.dtype = at::kBFloat16;
  c.why = fmt::format("bfloat16: bf16 products are {:.2f}x faster on {} and move this model's log-probs by {:.4f} "
                      "nats per token on a probe batch (auto allows {})",
                      c.speedup, device, c.mismatch, kBf16MaxLogprobMismatch);
  return c;
}

PrecisionChoice choose_precision(Vlm& m, int64_t rows) {
  const int64_t features = std::min<int64_t>(m.config().text.hidden_size, 2048);
  return decide_precision(measure_bf16_speedup(m.device(), features, rows), [&m] { return bf16_logprob_mismatch(m); },
                          m.device().str());
}

void resolve_auto_precision(const std::string& setting, Vlm& m, const std::string& role) {
  if (setting != "auto") return;
  const bool decodes = role != "learner";  // generation: a decode step multiplies a few rows by every weight
  const PrecisionChoice c = choose_precision(m, decodes ? kDecodeRows : kTrainRows);
  set_compute_dtype(c.dtype);
  spdlog::info("compute: {} matmuls (auto): {}", role, c.why);
}

}  // namespace seer::model
