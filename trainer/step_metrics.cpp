#include "trainer/step_metrics.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "core/check.h"

namespace seer::trainer {

namespace {
/// Short name -> (Prometheus name, help).
const std::map<std::string, std::pair<const char*, const char*>>& plain_gauges() {
  static const std::map<std::string, std::pair<const char*, const char*>> m = {
      {"loss", {"seer_policy_loss", "Policy loss of the last learner step"}},
      {"sft_loss", {"seer_sft_loss", "SFT loss (NLL per target token) of the last learner step"}},
      {"kl", {"seer_kl", "Mean per-token KL to the reference model"}},
      {"entropy", {"seer_entropy", "Mean per-token entropy of the policy"}},
      {"clip_fraction", {"seer_clip_fraction", "Fraction of tokens whose ratio was clipped"}},
      {"grad_norm", {"seer_grad_norm", "Global gradient norm before clipping"}},
      {"lr", {"seer_learning_rate", "Learning rate of the last optimizer step"}},
      {"weight_version", {"seer_weight_version", "Version of the published policy weights"}},
      {"logprob_mismatch", {"seer_logprob_mismatch", "Mean |learner - rollout| token log-prob"}},
      {"tokens_per_second", {"seer_learner_tokens_per_second", "Learner trained tokens per second"}},
      {"padding_fraction",
       {"seer_learner_padding_fraction", "Padding positions / all positions of the last step's micro-batches"}},
      {"allreduce_busbw", {"seer_allreduce_bus_bandwidth_bytes_per_second", "Gradient all-reduce bus bandwidth"}},
      {"accuracy", {"seer_accuracy", "Mean accuracy reward component of the step's samples"}},
      {"staleness", {"seer_staleness_versions", "Largest weight-version lag of a group trained on in the last step"}},
      {"reward_mean", {"seer_reward_mean", "Mean total reward of the last step's scored samples"}},
      {"groups/equal_reward_fraction",
       {"seer_groups_equal_reward_fraction", "Fraction of the last step's groups whose rewards are all equal (no signal)"}},
      {"groups/distinct_answers", {"seer_group_distinct_answers", "Mean distinct extracted answers per group, last step"}},
      {"threads/learner", {"seer_learner_threads", "Intra-op threads of learner rank 0 (the thread plan)"}},
      {"threads/rollout", {"seer_rollout_threads", "Mean intra-op threads the last step's groups were generated with"}},
      {"rollout/tokens_per_second",
       {"seer_rollout_step_tokens_per_second", "Completion tokens per second of generation for the last step's groups"}},
      {"groups/accuracy_spread",
       {"seer_groups_accuracy_spread", "Fraction of the last step's groups with both a correct and a wrong sample"}},
  };
  return m;
}
}  // namespace

struct StepMetrics::Gauges {
  prometheus::Family<prometheus::Gauge>* step = nullptr;
  std::map<std::string, prometheus::Gauge*> plain;
  prometheus::Family<prometheus::Gauge>* phase = nullptr;
  prometheus::Family<prometheus::Gauge>* reward = nullptr;
  prometheus::Family<prometheus::Counter>* status = nullptr;
};

StepMetrics::StepMetrics(std::shared_ptr<prometheus::Registry> registry, const std::string& jsonl_path)
    : registry_(std::move(registry)), gauges_(std::make_unique<Gauges>()), path_(jsonl_path) {
  if (registry_) {
    auto& r = *registry_;
    gauges_->step = &prometheus::BuildGauge().Name("seer_learner_step").Help("Learner steps completed").Register(r);
    for (const auto& [key, v] : plain_gauges()) {
      gauges_->plain[key] = &prometheus::BuildGauge().Name(v.first).Help(v.second).Register(r).Add({});
    }
    gauges_->phase = &prometheus::BuildGauge().Name("seer_step_phase_seconds").Help("Seconds per phase of the last step").Register(r);
    gauges_->reward = &prometheus::BuildGauge().Name("seer_reward").Help("Mean reward per component, last step").Register(r);
    gauges_->status = &prometheus::BuildCounter().Name("seer_reward_status_total").Help("Trained-on samples by reward status").Register(r);
  }
  if (!path_.empty()) {
    std::error_code ec;
    const auto parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    out_.open(path_, std::ios::app);
    SEER_CHECK(out_.good(), "{}: cannot open for appending", path_);
  }
}

StepMetrics::~StepMetrics() = default;

void StepMetrics::record(int64_t step, const std::map<std::string, double>& values) {
  if (registry_) {
    gauges_->step->Add({}).Set(static_cast<double>(step));
    for (const auto& [key, value] : values) {
      if (auto it = gauges_->plain.find(key); it != gauges_->plain.end()) {
        it->second->Set(value);
      } else if (key.rfind("phase/", 0) == 0) {
        gauges_->phase->Add({{"phase", key.substr(6)}}).Set(value);
      } else if (key.rfind("reward/", 0) == 0) {
        gauges_->reward->Add({{"component", key.substr(7)}}).Set(value);
      } else if (key.rfind("status/", 0) == 0) {
        gauges_->status->Add({{"status", key.substr(7)}}).Increment(value);
      }
    }
  }
  if (out_.is_open()) {
    nlohmann::ordered_json j;
    j["step"] = step;
    j["time"] = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    for (const auto& [key, value] : values) j[key] = std::isfinite(value) ? nlohmann::ordered_json(value) : nullptr;
    out_ << j.dump() << '\n';
    out_.flush();
    SEER_CHECK(out_.good(), "{}: write failed (disk full?)", path_);
  }
}

}  // namespace seer::trainer
