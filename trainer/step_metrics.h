// Per-step learner metrics, written twice: as Prometheus gauges/counters (names from
// ../shared/design/architecture.md, "Metrics") and as one JSON line per step in RUN_DIR/metrics.jsonl
// for plots without a Prometheus server. Values are keyed by short names:
//   loss, sft_loss, kl, entropy, clip_fraction, grad_norm, lr, weight_version, logprob_mismatch,
//   groups/equal_reward_fraction, groups/distinct_answers, groups/accuracy_spread (collapse signs),
//   tokens_per_second, allreduce_busbw (bytes/s), staleness (versions), reward_mean, phase/<name> (seconds),
//   reward/<component> (mean),
//   status/<STATUS> (count this step), and anything else (JSON only).
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <string>

namespace prometheus { class Registry; }

namespace seer::trainer {

class StepMetrics {
 public:
  /// `registry` may be null (no Prometheus); `jsonl_path` "" = no JSON lines. The file is appended to, so
  /// a resumed run continues it (a reader keeps the last record of a step).
  StepMetrics(std::shared_ptr<prometheus::Registry> registry, const std::string& jsonl_path);
  ~StepMetrics();
  StepMetrics(const StepMetrics&) = delete;
  StepMetrics& operator=(const StepMetrics&) = delete;

  /// Records learner step `step` (1-based: steps completed). Throws seer::Error when the file cannot be written.
  void record(int64_t step, const std::map<std::string, double>& values);

 private:
  struct Gauges;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Gauges> gauges_;
  std::string path_;
  std::ofstream out_;
};

}  // namespace seer::trainer
