// seer's side of the peer comparison (bench/compare.sh; the peer is bench/peer/peer_bench.py, Hugging Face
// transformers on the same checkpoint folder, same workload, same thread count). One call measures, after one
// warm-up each:
//   rollout  P prompts (F image tokens + L text tokens), G sampled completions of exactly N tokens each
//            (temperature 1, no top-k/top-p, no stop token): generated tokens/s over one generate() call;
//   grpo     one GRPO step on those P*G sequences: reference pass, policy forward+backward (the old log-probs
//            are the policy's own, detached: one optimizer step per batch), clipped loss with a k3 KL term
//            (beta 0.04), AdamW: completion tokens/s;
//   sft      one SFT step on B = P*G sequences (prompt + N target tokens): trained tokens/s.
// Prints one JSON line per measurement. Usage:
//   peer_bench --model DIR [--prompts 4] [--group 8] [--new-tokens 64] [--text-tokens 32] [--threads 2]
//              [--micro-batch 8] [--seed 1] [--matmul auto|blas|onednn] [--dtype float32|bfloat16|auto]
// --matmul and --dtype are compute.matmul and compute.*_dtype, with the config's defaults (auto, float32);
// --rollout-only 1 stops after the rollout; --profile FILE writes a chrome trace of the timed rollout and GRPO step
// (LibTorch's legacy profiler; bench/profile_ops.py sums it per op).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <fmt/format.h>

#include "core/malloc_tuning.h"
#include "model/generate.h"
#include "model/linear.h"
#include "model/precision_choice.h"
#include "model/vlm.h"
#include "trainer/communicator.h"
#include "trainer/grpo_update.h"
#include "trainer/optimizer.h"
#include "trainer/sft_update.h"

using namespace seer;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::map<std::string, at::Tensor> trainable(model::Vlm& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, p] : m.named_parameters()) {
    if (p.requires_grad()) out[name] = p;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  seer::tune_malloc_for_tensors();  // as the seer executable does (core/malloc_tuning.h)
  std::string dir;
  int64_t P = 4, G = 8, N = 64, L = 32, micro = 8, threads = 2;
  uint64_t seed = 1;
  std::string matmul = "auto", dtype = "float32";
  bool rollout_only = false;
  std::string profile;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--model") dir = v;
    else if (k == "--prompts") P = std::atoll(v);
    else if (k == "--group") G = std::atoll(v);
    else if (k == "--new-tokens") N = std::atoll(v);
    else if (k == "--text-tokens") L = std::atoll(v);
    else if (k == "--micro-batch") micro = std::atoll(v);
    else if (k == "--threads") threads = std::atoll(v);
    else if (k == "--seed") seed = std::strtoull(v, nullptr, 10);
    else if (k == "--matmul") matmul = v;
    else if (k == "--dtype") dtype = v;
    else if (k == "--rollout-only") rollout_only = std::string(v) == "1";
    else if (k == "--profile") profile = v;
    else {
      std::fprintf(stderr, "peer_bench: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: peer_bench --model DIR [--prompts P] [--group G] [--new-tokens N] ...\n");
    return 2;
  }
  torch::set_num_threads(static_cast<int>(threads));
  torch::manual_seed(static_cast<int64_t>(seed));
  // As in a run: the rollout worker and the learner are separate processes, each measuring `auto` on its own work.
  const model::MatmulBackend rollout_backend = matmul == "auto" ? model::measure_fastest_backend(512, P * G, false)
                                                                : model::parse_matmul_backend(matmul),
                             learner_backend = matmul == "auto" ? model::measure_fastest_backend(512)
                                                                : model::parse_matmul_backend(matmul);
  model::set_matmul_backend(rollout_backend);
  auto policy = model::Vlm::load(dir);
  auto reference = model::Vlm::load(dir);
  // As in a run: the rollout worker and the learner each resolve `auto` for their own work.
  auto resolve = [&](model::PrecisionWork work) {
    if (dtype != "auto") return model::parse_compute_dtype(dtype);
    const model::PrecisionChoice c = model::choose_precision(*policy, work, P * G);
    std::fprintf(stderr, "auto (%s): %s\n", work == model::PrecisionWork::kLearner ? "learner" : "rollout", c.why.c_str());
    return c.dtype;
  };
  const at::ScalarType rollout_dtype = resolve(model::PrecisionWork::kGeneration),
                       learner_dtype = resolve(model::PrecisionWork::kLearner);
  auto setup = [&](at::ScalarType d) {
    return fmt::format("\"matmul\":\"{}\",\"dtype\":\"{}\"", model::to_string(model::matmul_backend()),
                       d == at::kBFloat16 ? "bfloat16" : "float32");
  };
  const model::VlmConfig& cfg = policy->config();
  const int64_t F = cfg.image_feature_count(), S = cfg.vision.image_size;
  const int64_t vocab_text = 256;  // byte tokens: ordinary text ids for any preset

  // Prompts: 2 text tokens, F image placeholders, L text tokens; one image each.
  std::vector<model::Prompt> prompts;
  for (int64_t p = 0; p < P; ++p) {
    std::vector<int64_t> ids = {(p * 13 + 1) % vocab_text, (p * 29 + 2) % vocab_text};
    for (int64_t f = 0; f < F; ++f) ids.push_back(cfg.image_token_index);
    for (int64_t t = 0; t < L; ++t) ids.push_back((p * 7 + t * 11 + 3) % vocab_text);
    prompts.push_back({torch::tensor(ids, torch::kLong), {torch::rand({1, 3, S, S})}});
  }
  model::SamplingParams sp;
  sp.temperature = 1.0;
  sp.max_new_tokens = N;
  sp.seed = seed;
  sp.banned_ids = {cfg.image_token_index};  // as the worker does: a placeholder in a completion breaks the next pass
  policy->set_train(false);
  model::set_compute_dtype(rollout_dtype);
  (void)model::generate(*policy, prompts, G, sp);  // warm-up
  std::optional<torch::autograd::profiler::RecordProfile> trace;
  if (!profile.empty()) trace.emplace(profile + ".rollout.json");
  auto t0 = Clock::now();
  const model::Generation gen = model::generate(*policy, prompts, G, sp);
  const double rollout_s = since(t0);
  trace.reset();
  int64_t generated = 0;
  for (int64_t n : gen.lengths) generated += n;
  std::printf("{\"bench\":\"peer_seer\",%s,\"part\":\"rollout\",\"prompts\":%lld,\"group\":%lld,\"prompt_tokens\":%lld,"
              "\"new_tokens\":%lld,\"threads\":%lld,\"seconds\":%.4f,\"tokens_per_s\":%.2f}\n",
              setup(rollout_dtype).c_str(), static_cast<long long>(P), static_cast<long long>(G),
              static_cast<long long>(2 + F + L),
              static_cast<long long>(N), static_cast<long long>(threads), rollout_s, generated / rollout_s);

  if (rollout_only) return 0;

  // GRPO step on the generated groups.
  std::vector<trainer::Group> groups;
  for (int64_t p = 0; p < P; ++p) {
    trainer::Group g;
    g.prompt_id = "p" + std::to_string(p);
    const auto& ids = prompts[static_cast<size_t>(p)].ids;
    for (int64_t t = 0; t < ids.size(0); ++t) g.prompt.push_back(static_cast<int32_t>(ids[t].item<int64_t>()));
    g.pixel_values = prompts[static_cast<size_t>(p)].images;
    for (int64_t k = 0; k < G; ++k) {
      const int64_t row = p * G + k;
      trainer::Completion c;
      auto tok = gen.tokens[row].narrow(0, 0, gen.lengths[static_cast<size_t>(row)]);
      for (int64_t t = 0; t < tok.size(0); ++t) c.tokens.push_back(static_cast<int32_t>(tok[t].item<int64_t>()));
      auto lp = gen.logprobs[row].narrow(0, 0, gen.lengths[static_cast<size_t>(row)]).contiguous();
      c.rollout_logprobs.assign(lp.data_ptr<float>(), lp.data_ptr<float>() + lp.numel());
      c.reward = static_cast<double>((p + k) % 3 == 0);
      g.completions.push_back(std::move(c));
    }
    groups.push_back(std::move(g));
  }
  trainer::assign_advantages(groups, {});
  trainer::assign_mini_batches(groups, 1);
  trainer::PolicyUpdateOptions po;
  po.clip.beta = 0.04;
  po.micro_batch_size = micro;
  po.pad_id = 256;
  auto comm = trainer::make_single_communicator();
  model::set_compute_dtype(learner_dtype);
  model::set_matmul_backend(learner_backend);
  {
    policy->set_train(true);
    trainer::AdamW opt(trainable(*policy), {});
    (void)trainer::policy_update(*policy, reference.get(), opt, *comm, groups, po);  // warm-up
    if (!profile.empty()) trace.emplace(profile + ".grpo.json");
    t0 = Clock::now();
    (void)trainer::policy_update(*policy, reference.get(), opt, *comm, groups, po);
    const double s = since(t0);
    trace.reset();
    std::printf("{\"bench\":\"peer_seer\",%s,\"part\":\"grpo\",\"sequences\":%lld,\"seconds\":%.4f,\"tokens_per_s\":%.2f}\n",
                setup(learner_dtype).c_str(), static_cast<long long>(P * G), s, static_cast<double>(generated) / s);
  }

  // SFT step: the same sequences, every completion token a target.
  {
    std::vector<trainer::Sequence> seqs;
    std::vector<at::Tensor> pixels;
    int64_t trained = 0;
    for (int64_t p = 0; p < P; ++p) pixels.push_back(prompts[static_cast<size_t>(p)].images[0]);
    for (int64_t p = 0; p < P; ++p) {
      for (const auto& c : groups[static_cast<size_t>(p)].completions) {
        trainer::Sequence s;
        s.ids = groups[static_cast<size_t>(p)].prompt;
        s.target.assign(s.ids.size(), 0);
        s.ids.insert(s.ids.end(), c.tokens.begin(), c.tokens.end());
        s.target.resize(s.ids.size(), 1);
        s.images = {p};
        trained += static_cast<int64_t>(c.tokens.size());
        seqs.push_back(std::move(s));
      }
    }
    trainer::AdamW opt(trainable(*policy), {});
    trainer::SftUpdateOptions so;
    so.micro_batch_size = micro;
    so.pad_id = 256;
    (void)trainer::sft_update(*policy, opt, *comm, seqs, pixels, so);  // warm-up
    t0 = Clock::now();
    (void)trainer::sft_update(*policy, opt, *comm, seqs, pixels, so);
    const double s = since(t0);
    std::printf("{\"bench\":\"peer_seer\",%s,\"part\":\"sft\",\"sequences\":%lld,\"seconds\":%.4f,\"tokens_per_s\":%.2f}\n",
                setup(learner_dtype).c_str(), static_cast<long long>(seqs.size()), s, static_cast<double>(trained) / s);
  }
  return 0;
}
