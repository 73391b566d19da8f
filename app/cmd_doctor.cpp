// `seer doctor`: what this machine gives seer, measured, with advice where something is slow.
// LibTorch build, BLAS library and kernel, oneDNN, threads, GEMM GFLOP/s per backend and dtype, memory
// bandwidth, MPI and NCCL.
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <torch/torch.h>
#include <torch/version.h>

#include "app/blas_runtime.h"
#include "app/commands.h"
#include "app/doctor_memory.h"
#include "app/process_setup.h"
#include "model/precision_choice.h"
#include "seer/build_info.h"

namespace seer::app {
namespace {

using Clock = std::chrono::steady_clock;

/// Calls per second of `fn` over ~`seconds` after one warm-up call.
template <class Fn>
double rate(double seconds, Fn fn) {
  fn();
  int calls = 0;
  const auto t0 = Clock::now();
  double elapsed = 0;
  do {
    fn();
    ++calls;
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (elapsed < seconds);
  return calls / elapsed;
}

int doctor(double seconds, int threads) {
  const int cores = cores_available();
  at::set_num_threads(threads > 0 ? threads : cores);
  const BlasInfo blas = detect_blas();
  std::printf("seer %s (%s)\n", build::kVersion, build::kBuildType);
  std::printf("LibTorch %s, CUDA build: %s, CUDA available: %s\n", TORCH_VERSION, build::kWithCuda ? "yes" : "no",
              torch::cuda::is_available() ? "yes" : "no");
  std::printf("BLAS: %s (%s)%s%s\n", blas.vendor.c_str(), blas.library.empty() ? "not found" : blas.library.c_str(),
              blas.core.empty() ? "" : ", kernel ", blas.core.c_str());
  if (!blas.config.empty()) std::printf("      %s\n", blas.config.c_str());
  std::printf("oneDNN (mkldnn): %s\n", at::hasMKLDNN() ? "available" : "not built in");
  std::printf("threads: %d intra-op (cores available to this process: %d)\n", at::get_num_threads(), cores);
  char mpi_version[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
  int len = 0;
  MPI_Get_library_version(mpi_version, &len);
  std::string mpi(mpi_version, static_cast<size_t>(len));
  if (auto nl = mpi.find_first_of("\n,"); nl != std::string::npos) mpi.resize(nl);
  std::printf("MPI: %s; NCCL: %s\n", mpi.c_str(), build::kWithNccl ? "built in" : "not built (no CUDA)");

  std::printf("\nGEMM, n x n, GFLOP/s (%d thread%s, %.1f s each):\n", at::get_num_threads(),
              at::get_num_threads() == 1 ? "" : "s", seconds);
  std::printf("  %-26s %10s %10s\n", "backend / dtype", "n=512", "n=1024");
  double best_fp32 = 0;
  auto row = [&](const char* name, auto make_fn) {
    double r[2] = {0, 0};
    int i = 0;
    for (const int64_t n : {512, 1024}) {
      auto fn = make_fn(n);
      r[i++] = rate(seconds / 2, fn) * 2.0 * static_cast<double>(n * n * n) / 1e9;
    }
    std::printf("  %-26s %10.1f %10.1f\n", name, r[0], r[1]);
    return std::max(r[0], r[1]);
  };
  const double blas_fp32 = row("BLAS fp32 (torch::mm)", [](int64_t n) {
    auto a = torch::randn({n, n}), b = torch::randn({n, n});
    return [a, b] { (void)torch::mm(a, b); };
  });
  best_fp32 = blas_fp32;
  double dnnl_fp32 = 0;
  if (at::hasMKLDNN()) {
    dnnl_fp32 = row("oneDNN fp32 (mkldnn_linear)", [](int64_t n) {
      auto a = torch::randn({n, n}).to_mkldnn(), w = torch::randn({n, n});
      return [a, w] { (void)at::mkldnn_linear(a, w, {}); };
    });
    best_fp32 = std::max(best_fp32, dnnl_fp32);
  }
  const double bf16 = row("bf16 (torch::mm)", [](int64_t n) {
    auto a = torch::randn({n, n}).to(torch::kBFloat16), b = torch::randn({n, n}).to(torch::kBFloat16);
    return [a, b] { (void)torch::mm(a, b); };
  });

  auto src = torch::ones({64 << 20});  // 256 MiB
  auto dst = torch::empty_like(src);
  const double copies = rate(seconds / 2, [&] { dst.copy_(src); });
  std::printf("\nmemory bandwidth (copy 256 MiB into a preallocated tensor): %.1f GB/s copied\n",
              copies * 256.0 * (1 << 20) / 1e9);

  std::printf("\nadvice:\n");
  int advice = 0;
  if (blas.vendor == "reference") {
    std::printf("  - fp32 matmuls run on the reference BLAS (%.1f GFLOP/s). Run scripts/install-deps.sh: it installs\n"
                "    OpenBLAS (libopenblas0-openmp) as libblas.so.3.\n", blas_fp32);
    ++advice;
  }
  if (!better_openblas_core(blas).empty()) {
    std::printf("  - OpenBLAS runs its generic '%s' kernel on this CPU; '%s' fits it. seer sets\n"
                "    OPENBLAS_CORETYPE=%s for itself; other programs need it in their environment.\n",
                blas.core.c_str(), better_openblas_core(blas).c_str(), better_openblas_core(blas).c_str());
    ++advice;
  }
  if (at::get_num_threads() < cores && threads <= 0) {
    std::printf("  - LibTorch uses %d of %d cores.\n", at::get_num_threads(), cores);
    ++advice;
  }
  // compute.*_dtype: auto decides at start-up on the model itself (model/precision_choice.h).
  const double bf16_ratio = bf16 / std::max(best_fp32, 1e-9);
  if (bf16_ratio >= model::kBf16MinSpeedup) {
    std::printf("  - bf16 matmuls are %.1fx faster than the best fp32 here. compute.learner_dtype / rollout_dtype\n"
                "    auto time the model's own work at start-up (a forward pass; decode steps) both ways and choose\n"
                "    bfloat16 where it runs >= %.1fx faster and moves the log-probs by <= %.2f nats/token (the log says\n"
                "    which and why); a fast bf16 GEMM alone does not make whole decode steps faster on every CPU.\n",
                bf16_ratio, model::kBf16MinSpeedup, model::kBf16MaxLogprobMismatch);
    ++advice;
  } else if (bf16_ratio < 0.5) {
    std::printf("  - bf16 matmuls are %.0fx slower than fp32 here (no native bf16 instructions): keep\n"
                "    compute.learner_dtype and compute.rollout_dtype at float32 or auto (auto measures this and keeps\n"
                "    float32).\n", 1.0 / std::max(bf16_ratio, 1e-9));
    ++advice;
  }
  if (dnnl_fp32 > 1.5 * blas_fp32) {
    std::printf("  - oneDNN fp32 is %.1fx faster than the BLAS here.\n", dnnl_fp32 / blas_fp32);
    ++advice;
  }
  if (advice == 0) std::printf("  none: fp32 GEMM reaches %.0f GFLOP/s on %d threads.\n", best_fp32, at::get_num_threads());
  return 0;
}

}  // namespace

void add_doctor_command(CLI::App& app, Invocation& inv) {
  struct Args {
    double seconds = 1.0;
    int threads = 0;
    std::string config;
    std::vector<std::string> overrides;
    double gpu_gib = 80;
    int learner_ranks = 0;
    std::string attention = "auto";
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "doctor", "Measure this machine for seer (BLAS, threads, GEMM, bandwidth) and advise; with --config, estimate "
                "a run's per-GPU memory instead");
  cmd->add_option("--seconds", args->seconds, "measurement time per GEMM backend")->check(CLI::Range(0.05, 60.0));
  cmd->add_option("--threads", args->threads, "intra-op threads (default: all cores available)");
  cmd->add_option("--config", args->config, "experiment config (YAML): print its per-GPU memory estimate");
  cmd->add_option("--set", args->overrides, "override a config key, e.g. --set trainer.micro_batch_size=1 (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--gpu-gib", args->gpu_gib, "memory of one GPU, GiB (with --config)")->check(CLI::Range(1.0, 4096.0));
  cmd->add_option("--learner-ranks", args->learner_ranks,
                  "data-parallel learner ranks (with --config; default: cluster.learner_ranks)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--attention", args->attention,
                  "attention kernel to assume (with --config): auto (this build's), eager, sdpa (LibTorch >= 2.1 builds)")
      ->check(CLI::IsMember({"auto", "eager", "sdpa"}));
  cmd->callback([args, &inv] {
    inv.exit_code = args->config.empty() ? doctor(args->seconds, args->threads)
                                         : doctor_memory(args->config, args->overrides, args->gpu_gib, args->learner_ranks,
                                                         args->attention);
  });
}

}  // namespace seer::app
