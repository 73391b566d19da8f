// Learner benchmark: one data-parallel SFT step (forward + backward on the rank's share, bucketed gradient
// all-reduce, clipping, AdamW) on the `tiny` / `small` presets, reported as trained tokens/s and achieved
// GFLOP/s (6 · trainable parameters per token) next to an fp32 GEMM measured in the same run; and the
// bucketed all-reduce's bus bandwidth next to one raw MPI_Allreduce of the same bytes (nccl-tests busbw).
// Usage: mpirun -np 2 learner_bench [--seconds S] [--preset tiny|small] [--threads N] [--all-paths]
//        (or alone: a world of one). --all-paths also runs the step on oneDNN fp32 and bf16 linear layers.
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include <torch/torch.h>

#include "core/malloc_tuning.h"
#include "model/generate.h"
#include "model/linear.h"
#include "model/presets.h"
#include "model/vlm.h"
#include "trainer/communicator.h"
#include "trainer/grad_sync.h"
#include "trainer/gradient_reducer.h"
#include "trainer/optimizer.h"
#include "trainer/sft_update.h"

using namespace seer;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

bool under_mpi() { return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr; }

}  // namespace

int main(int argc, char** argv) {
  seer::tune_malloc_for_tensors();  // as the seer executable does (core/malloc_tuning.h)
  double seconds = 3.0;
  std::string only;
  int threads_arg = 0;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--preset") == 0) only = argv[i + 1];
    if (std::strcmp(argv[i], "--threads") == 0) threads_arg = std::atoi(argv[i + 1]);
  }
  bool all_paths = false;
  for (int i = 1; i < argc; ++i) all_paths |= std::strcmp(argv[i], "--all-paths") == 0;
  auto comm = under_mpi() ? trainer::make_mpi_communicator() : trainer::make_single_communicator();
  const int rank = comm->rank(), world = comm->world_size();
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const int local_ranks = local ? std::max(1, std::atoi(local)) : 1;
  const int threads =
      threads_arg > 0 ? threads_arg : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / local_ranks);
  torch::set_num_threads(threads);

  // GEMM ceiling with this process's threads: the best of fp32 BLAS, fp32 oneDNN and bf16 at n = 512 and
  // 1024 (every rank measures; rank 0 reports).
  torch::manual_seed(0);
  double gemm_gflops = 0;
  auto t0 = Clock::now();
  for (const int64_t n : {512, 1024}) {
    for (const char* kind : {"blas_fp32", "onednn_fp32", "bf16"}) {
      const std::string k = kind;
      if (k == "onednn_fp32" && !at::hasMKLDNN()) continue;
      auto a = torch::randn({n, n}), b = torch::randn({n, n});
      if (k == "bf16") {
        a = a.to(at::kBFloat16);
        b = b.to(at::kBFloat16);
      }
      const auto ad = k == "onednn_fp32" ? a.to_mkldnn() : a;
      auto run = [&] { (void)(k == "onednn_fp32" ? at::mkldnn_linear(ad, b, {}) : torch::mm(a, b)); };
      run();
      int calls = 0;
      t0 = Clock::now();
      do {
        run();
        ++calls;
      } while (since(t0) < seconds / 6);
      const double gflops = calls * 2.0 * static_cast<double>(n * n * n) / since(t0) / 1e9;
      gemm_gflops = std::max(gemm_gflops, gflops);
      if (rank == 0) {
        std::printf("{\"bench\":\"gemm\",\"kind\":\"%s\",\"n\":%lld,\"threads\":%d,\"gflops\":%.2f}\n", kind,
                    static_cast<long long>(n), threads, gflops);
      }
    }
  }

  struct Path {
    const char* name;
    model::MatmulBackend backend;
    at::ScalarType dtype;
  };
  std::vector<Path> paths = {{"blas_fp32", model::MatmulBackend::kBlas, at::kFloat}};
  if (all_paths) {
    if (at::hasMKLDNN()) paths.push_back({"onednn_fp32", model::MatmulBackend::kOneDnn, at::kFloat});
    paths.push_back({"bf16", model::MatmulBackend::kBlas, at::kBFloat16});
  }
  for (const Path& path : paths)
  for (const char* preset : {"tiny", "small"}) {
    if (!only.empty() && only != preset) continue;
    model::set_matmul_backend(path.backend);
    model::set_compute_dtype(path.dtype);
    const model::VlmConfig cfg = model::preset_config(preset);
    auto policy = model::Vlm::create(cfg, 1);
    policy->set_train(true);
    std::map<std::string, at::Tensor> params;
    int64_t n_params = 0;
    for (const auto& [name, p] : policy->named_parameters()) {
      if (p.requires_grad()) {
        params[name] = p;
        n_params += p.numel();
      }
    }
    trainer::AdamW opt(params, {});
    // This rank's share: 8 sequences of 128 tokens (F image placeholders, 64 trained tokens), one image each.
    const int64_t B = 8, T = 128, F = cfg.image_feature_count(), S = cfg.vision.image_size;
    std::vector<trainer::Sequence> seqs;
    std::vector<at::Tensor> pixels;
    for (int64_t i = 0; i < B; ++i) {
      trainer::Sequence s;
      for (int64_t t = 0; t < T; ++t) s.ids.push_back(static_cast<int32_t>((t * 7 + i) % 256));
      for (int64_t t = 1; t <= F; ++t) s.ids[static_cast<size_t>(t)] = static_cast<int32_t>(cfg.image_token_index);
      s.target.assign(static_cast<size_t>(T), 0);
      for (int64_t t = T - 64; t < T; ++t) s.target[static_cast<size_t>(t)] = 1;
      s.images = {i};
      seqs.push_back(std::move(s));
      pixels.push_back(torch::randn({1, 3, S, S}));
    }
    trainer::SftUpdateOptions so;
    so.micro_batch_size = B;
    so.pad_id = 256;
    (void)trainer::sft_update(*policy, opt, *comm, seqs, pixels, so);  // warm-up
    int steps = 0;
    double allreduce_s = 0, busbw = 0, fwd_bwd_s = 0;
    t0 = Clock::now();
    at::Tensor done = at::zeros({1}, at::kDouble);
    while (true) {
      const auto st = trainer::sft_update(*policy, opt, *comm, seqs, pixels, so);
      allreduce_s += st.seconds_allreduce;
      fwd_bwd_s += st.seconds_forward_backward;
      busbw = st.allreduce_bus_bandwidth;
      ++steps;
      done.fill_(since(t0) >= seconds ? 1.0 : 0.0);
      comm->broadcast(done, 0);  // every rank runs the same number of steps
      if (done.item<double>() > 0) break;
    }
    const double elapsed = since(t0);
    const double tokens = static_cast<double>(steps * B * T * world) / elapsed;   // all ranks
    const double gflops_rank = tokens / world * 6.0 * static_cast<double>(n_params) / 1e9;  // whole step
    // forward + backward alone (the step minus all-reduce, clipping and AdamW)
    const double fwd_bwd_gflops = static_cast<double>(steps * B * T) * 6.0 * static_cast<double>(n_params) / fwd_bwd_s / 1e9;
    // The bucketed all-reduce alone (after a barrier, so rank skew of the step does not count), and one raw
    // MPI_Allreduce of the same gradient bytes in one buffer as its baseline.
    double raw_busbw = 0, isolated_busbw = 0, reducer_busbw = 0;
    if (world > 1) {
      std::vector<at::Tensor> plist;
      for (auto& [name, p] : params) {
        p.mutable_grad() = torch::ones_like(p);
        plist.push_back(p);
      }
      int n = 0;
      double seconds_sum = 0;
      trainer::GradSyncStats last;
      const int reps = 20;  // a fixed count: every rank must make the same collectives
      for (; n < reps; ++n) {
        comm->barrier();
        last = trainer::all_reduce_gradients(plist, *comm, so.bucket_bytes);
        seconds_sum += last.seconds;
      }
      isolated_busbw = static_cast<double>(last.bytes) / (seconds_sum / n) * 2.0 * (world - 1) / world;
      at::Tensor flat = torch::ones({n_params}, at::kFloat);
      MPI_Allreduce(MPI_IN_PLACE, flat.data_ptr<float>(), static_cast<int>(n_params), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      double raw_seconds = 0;
      for (int i = 0; i < reps; ++i) {
        MPI_Barrier(MPI_COMM_WORLD);
        const auto t1 = Clock::now();
        MPI_Allreduce(MPI_IN_PLACE, flat.data_ptr<float>(), static_cast<int>(n_params), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        raw_seconds += since(t1);
      }
      const double per = raw_seconds / reps;
      raw_busbw = static_cast<double>(n_params) * 4 / per * 2.0 * (world - 1) / world;
      // The persistent flat buckets (trainer.overlap_allreduce: the gradients live in the buckets, nothing is
      // copied in or out): reduce them all, as finish() does for buckets backward did not complete.
      trainer::GradientReducer reducer(plist, *comm, so.bucket_bytes);
      double reducer_seconds = 0;
      int64_t reducer_bytes = 0;
      for (int i = 0; i < reps; ++i) {
        reducer.zero();  // the next step: every bucket pending again
        for (auto& p : plist) p.grad().fill_(1.0f);
        comm->barrier();
        const auto t1 = Clock::now();
        (void)reducer.finish();
        reducer_seconds += since(t1);
      }
      reducer_bytes = n_params * 4;
      reducer_busbw = static_cast<double>(reducer_bytes) / (reducer_seconds / reps) * 2.0 * (world - 1) / world;
    }
    // Generation with the same linear-layer path: 2 prompts x G = 4 samples, 32 new tokens each (no stop).
    double gen_tokens_per_s = 0;
    {
      torch::NoGradGuard no_grad;
      policy->set_train(false);
      model::SamplingParams sp;
      sp.max_new_tokens = 32;
      sp.seed = 1;
      std::vector<model::Prompt> prompts;
      for (int i = 0; i < 2; ++i) {
        auto pid = torch::randint(0, 256, {F + 24}, torch::kLong);
        pid.narrow(0, 1, F).fill_(cfg.image_token_index);
        prompts.push_back({pid, {torch::randn({1, 3, S, S})}});
      }
      (void)model::generate(*policy, prompts, 4, sp);
      int calls = 0;
      const auto g0 = Clock::now();
      do {
        (void)model::generate(*policy, prompts, 4, sp);
        ++calls;
      } while (since(g0) < seconds / 2);
      gen_tokens_per_s = calls * 2.0 * 4 * sp.max_new_tokens / since(g0);
      policy->set_train(true);
    }
    if (rank == 0) {
      std::printf("{\"bench\":\"learner_sft_step\",\"path\":\"%s\",\"preset\":\"%s\",\"world\":%d,\"threads_per_rank\":%d,"
                  "\"trainable_params\":%lld,\"tokens_per_s\":%.0f,\"gflops_per_rank\":%.2f,\"vs_gemm\":%.3f,"
                  "\"fwd_bwd_gflops\":%.2f,\"fwd_bwd_vs_gemm\":%.3f,\"generate_tokens_per_s\":%.0f,"
                  "\"allreduce_busbw_in_step\":%.3e,\"allreduce_busbw\":%.3e,\"raw_mpi_allreduce_busbw\":%.3e,"
                  "\"bucketed_vs_raw\":%.3f,\"persistent_buckets_busbw\":%.3e,\"persistent_vs_raw\":%.3f}\n",
                  path.name, preset, world, threads, static_cast<long long>(n_params), tokens, gflops_rank,
                  gflops_rank / gemm_gflops, fwd_bwd_gflops, fwd_bwd_gflops / gemm_gflops, gen_tokens_per_s, busbw, isolated_busbw, raw_busbw,
                  raw_busbw > 0 ? isolated_busbw / raw_busbw : 0.0, reducer_busbw,
                  raw_busbw > 0 ? reducer_busbw / raw_busbw : 0.0);
      std::printf("%s %s: %.0f tokens/s on %d rank(s) x %d threads; whole step %.2f GFLOP/s per rank = %.0f%% of best "
                  "GEMM %.2f; forward+backward %.2f GFLOP/s = %.0f%%; generate %.0f tokens/s",
                  preset, path.name, tokens, world, threads, gflops_rank, 100 * gflops_rank / gemm_gflops, gemm_gflops,
                  fwd_bwd_gflops, 100 * fwd_bwd_gflops / gemm_gflops, gen_tokens_per_s);
      if (world > 1) {
        std::printf("; bucketed all-reduce busbw %.2f GB/s (%.2f GB/s seen inside the step, rank skew included) vs "
                    "raw MPI_Allreduce %.2f GB/s = %.0f%%", isolated_busbw / 1e9, busbw / 1e9, raw_busbw / 1e9,
                    100 * isolated_busbw / raw_busbw);
      }
      std::printf("\n");
    }
  }
  return 0;
}
