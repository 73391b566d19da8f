#include "app/doctor_memory.h"

#include <cstdio>

#include <fmt/format.h>

#include "app/commands.h"
#include "app/process_setup.h"
#include "core/config_load.h"
#include "model/hf_config.h"
#include "model/layers.h"
#include "trainer/memory_estimate.h"

namespace seer::app {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kUsable = 0.95;  // of the GPU: what the allocator can hand out before fragmentation bites

void print_parts(const char* title, const std::vector<trainer::MemoryPart>& parts, double total, double gpu_gib) {
  std::printf("\n%-28s %9s  %s\n", title, "GiB", "how");
  for (const auto& p : parts) std::printf("  %-26s %9.1f  %s\n", p.name.c_str(), p.bytes / kGiB, p.how.c_str());
  const bool fits = total <= kUsable * gpu_gib * kGiB;
  std::printf("  %-26s %9.1f  %s\n", "total", total / kGiB,
              fits ? fmt::format("fits in {:.0f} GiB ({:.0f} % of it)", gpu_gib, 100 * total / (gpu_gib * kGiB)).c_str()
                   : fmt::format("does NOT fit in {:.0f} GiB ({:.0f} GiB usable)", gpu_gib, kUsable * gpu_gib).c_str());
}

}  // namespace

int doctor_memory(const std::string& config, const std::vector<std::string>& overrides, double gpu_gib,
                  int learner_ranks, const std::string& attention) {
  const bool fused = attention == "auto" ? model::attention_is_sdpa() : attention == "sdpa";
  ExperimentConfig c;
  try {
    c = load_config(config, overrides);
  } catch (const std::exception& e) {
    return report_config_error(e);
  }
  model::VlmConfig m;
  try {
    m = model::load_hf_config(c.model.path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seer doctor: model.path: %s\n", e.what());
    return kExitBadInput;
  }
  const int64_t ranks = learner_ranks > 0 ? learner_ranks : c.cluster.learner_ranks;
  const trainer::MemoryEstimate e = trainer::estimate_memory(m, c, ranks, fused);
  std::printf("memory estimate for %s: %s from %s\n", config.c_str(), m.architecture.c_str(), c.model.path.c_str());
  std::printf("%.2f B parameters (%.2f B trainable), %s, %lld learner rank(s), micro-batch %lld, T = %lld + %lld "
              "tokens, learner %s, %s attention, GPU %.0f GiB\n",
              static_cast<double>(e.parameters) / 1e9, static_cast<double>(e.trainable) / 1e9, c.algorithm.name.c_str(),
              static_cast<long long>(ranks), static_cast<long long>(c.trainer.micro_batch_size),
              static_cast<long long>(c.data.max_prompt_tokens), static_cast<long long>(c.rollout.max_new_tokens),
              c.compute.learner_dtype.c_str(), fused ? "fused (sdpa)" : "eager", gpu_gib);
  print_parts("learner rank (per GPU)", e.learner, e.learner_total(), gpu_gib);
  if (!e.rollout.empty()) print_parts("rollout worker (per GPU)", e.rollout, e.rollout_total(), gpu_gib);

  const double usable = kUsable * gpu_gib * kGiB;
  const bool learner_fits = e.learner_total() <= usable;
  const bool rollout_fits = e.rollout.empty() || e.rollout_total() <= usable;
  if (!learner_fits) {
    std::printf("\nthe learner would fit with (each alone, then together):\n");
    struct Option {
      const char* what;
      std::vector<std::string> sets;
    };
    const std::vector<Option> options = {
        {"trainer.shard_optimizer=true", {"trainer.shard_optimizer=true"}},
        {"trainer.gradient_checkpointing=true", {"trainer.gradient_checkpointing=true"}},
        {"trainer.micro_batch_size=1", {"trainer.micro_batch_size=1"}},
        {"all three", {"trainer.shard_optimizer=true", "trainer.gradient_checkpointing=true", "trainer.micro_batch_size=1"}}};
    for (const auto& o : options) {
      std::vector<std::string> more = overrides;
      more.insert(more.end(), o.sets.begin(), o.sets.end());
      const double total = trainer::estimate_memory(m, load_config(config, more), ranks, fused).learner_total();
      std::printf("  %-40s %7.1f GiB  %s\n", o.what, total / kGiB, total <= usable ? "fits" : "does not fit");
    }
  }
  if (!rollout_fits) {
    std::printf("\nthe rollout worker does not fit: lower rollout.prompts_per_call (the KV cache scales with it) "
                "or data.max_prompt_tokens\n");
  }
  return learner_fits && rollout_fits ? 0 : 3;
}

}  // namespace seer::app
