// Model benchmarks for the `tiny` and `small` presets: training forward+backward tokens/s and generation
// tokens/s, each also as achieved GFLOP/s (≈ 6·params per trained token, 2·params per generated token)
// and as a ratio to a plain fp32 GEMM measured in the same run (the machine's own ceiling today).
// Usage: model_bench [--seconds S] [--threads N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <torch/torch.h>

#include "model/generate.h"
#include "model/presets.h"
#include "model/vlm.h"

using namespace seer::model;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// Runs `fn` repeatedly for about `seconds` (after one warm-up call); returns calls per second.
template <class Fn>
double rate(double seconds, Fn fn) {
  fn();
  int calls = 0;
  const auto t0 = Clock::now();
  do {
    fn();
    ++calls;
  } while (seconds_since(t0) < seconds);
  return calls / seconds_since(t0);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3.0;
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
  }
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  const auto a = torch::randn({512, 512}), b = torch::randn({512, 512});
  const double gemm_gflops = rate(seconds, [&] { (void)torch::mm(a, b); }) * 2.0 * 512 * 512 * 512 / 1e9;
  std::printf("{\"bench\":\"gemm_fp32_512\",\"threads\":%d,\"gflops\":%.2f}\n", threads, gemm_gflops);

  for (const char* preset : {"tiny", "small"}) {
    const VlmConfig cfg = preset_config(preset);
    auto model = Vlm::create(cfg, 1);
    int64_t params = 0;
    for (const auto& p : model->trainable_parameters()) params += p.numel();
    const int64_t S = cfg.vision.image_size, F = cfg.image_feature_count();
    const int64_t B = 4, T = 128, response = 64;
    auto ids = torch::randint(0, 256, {B, T}, torch::kLong);
    ids.narrow(1, 1, F).fill_(cfg.image_token_index);
    auto mask = torch::ones({B, T}, torch::kLong);
    auto targets = torch::zeros({B, T}, torch::kBool);
    targets.narrow(1, T - response, response).fill_(true);
    auto pixels = torch::randn({B, 3, S, S});
    model->set_train(true);
    auto params_list = model->trainable_parameters();
    const double train_rate = rate(seconds, [&] {
      for (auto& p : params_list) p.mutable_grad() = torch::Tensor();
      auto out = model->token_logprobs(ids, mask, model->image_features(pixels), targets);
      out.logprobs.sum().backward();
    });
    const double train_tokens = train_rate * B * T;
    model->set_train(false);

    SamplingParams sp;
    sp.max_new_tokens = 32;
    sp.seed = 1;
    std::vector<Prompt> prompts;
    for (int i = 0; i < 2; ++i) {
      auto pid = torch::randint(0, 256, {F + 24}, torch::kLong);
      pid.narrow(0, 1, F).fill_(cfg.image_token_index);
      prompts.push_back({pid, {torch::randn({1, 3, S, S})}});
    }
    const int64_t G = 4;
    int64_t generated = 0;
    const double gen_calls = rate(seconds, [&] {
      const auto g = generate(*model, prompts, G, sp);
      for (int64_t len : g.lengths) generated += len;
    });
    const double gen_tokens = gen_calls * static_cast<double>(sp.max_new_tokens) * 2 * G;  // rows run to the limit
    (void)generated;
    const double train_gflops = train_tokens * 6.0 * params / 1e9, gen_gflops = gen_tokens * 2.0 * params / 1e9;
    std::printf("{\"bench\":\"model\",\"preset\":\"%s\",\"params\":%lld,\"threads\":%d,"
                "\"train_tokens_per_s\":%.0f,\"train_gflops\":%.2f,\"train_vs_gemm\":%.3f,"
                "\"generate_tokens_per_s\":%.0f,\"generate_gflops\":%.2f,\"generate_vs_gemm\":%.3f}\n",
                preset, static_cast<long long>(params), threads, train_tokens, train_gflops,
                train_gflops / gemm_gflops, gen_tokens, gen_gflops, gen_gflops / gemm_gflops);
    std::printf("%s (%.1f M trainable): forward+backward %.0f tokens/s (%.2f GFLOP/s, %.0f%% of GEMM); "
                "generate %.0f tokens/s (%.2f GFLOP/s, %.0f%% of GEMM)\n",
                preset, params / 1e6, train_tokens, train_gflops, 100 * train_gflops / gemm_gflops, gen_tokens,
                gen_gflops, 100 * gen_gflops / gemm_gflops);
  }
  return 0;
}
