#include "model/precision_choice.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "model/generate.h"
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

double measure_bf16_speedup(Vlm& m, PrecisionWork work, int64_t rows) {
  DtypeScope restore;
  torch::NoGradGuard no_grad;
  const int64_t vocab = std::min<int64_t>(m.config().text.vocab_size, 256);  // plain text ids of any vocabulary
  at::Generator gen = at::detail::createCPUGenerator(1);
  std::function<void()> run;
  if (work == PrecisionWork::kLearner) {
    const torch::Tensor ids = torch::randint(0, vocab, {4, 64}, gen, torch::kLong);
    const torch::Tensor attention = torch::ones({4, 64}, torch::kLong);
    torch::Tensor target = torch::zeros({4, 64}, torch::kBool);
    target.narrow(1, 16, 48).fill_(true);
    run = [&m, ids, attention, target] {
      (void)m.token_logprobs(ids, attention, torch::Tensor(), target).logprobs.sum().item<double>();
    };
  } else {
    // rows samples as rows / G prompts of G samples (G = 8 where rows allow), 16 decode steps
    const int64_t group = std::max<int64_t>(1, std::min<int64_t>(8, rows));
    std::vector<Prompt> prompts;
    for (int64_t p = 0; p < std::max<int64_t>(1, rows / group); ++p) {
      prompts.push_back({torch::randint(0, vocab, {32}, gen, torch::kLong), {}});
    }
    SamplingParams sp;
    sp.max_new_tokens = 16;
    sp.seed = 1;
    run = [&m, prompts, sp, group] { (void)generate(m, prompts, group, sp); };
  }
  auto time = [&](at::ScalarType dtype) {
    set_compute_dtype(dtype);
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      run();  // ends in a host read or copy: a device that runs asynchronously has finished
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
    c.why = fmt::format("float32: bf16 products measured {:.2f}x float32 on {} (auto needs {:.1f}x)",
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

PrecisionChoice choose_precision(Vlm& m, PrecisionWork work, int64_t rows) {
  return decide_precision(measure_bf16_speedup(m, work, rows), [&m] { return bf16_logprob_mismatch(m); },
                          m.device().str() + (work == PrecisionWork::kLearner ? " (forward pass)" : " (decode steps)"));
}

void resolve_auto_precision(const std::string& setting, Vlm& m, const std::string& role, int64_t rows) {
  if (setting != "auto") return;
  const PrecisionChoice c =
      choose_precision(m, role == "learner" ? PrecisionWork::kLearner : PrecisionWork::kGeneration, rows);
  set_compute_dtype(c.dtype);
  spdlog::info("compute: {} matmuls (auto): {}", role, c.why);
}

}  // namespace seer::model
