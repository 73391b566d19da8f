// What several subcommands do at process start: config loading with logging set up, secrets read once
// (the only place below main() where the environment is read), the /metrics endpoint, signal waiting.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"

namespace prometheus {
class Exposer;
class Registry;
}  // namespace prometheus

namespace seer::app {

/// Loads FILE (+ overrides) and installs the logger for `role`/`rank`; the level is --log-level when
/// given, else the config's. Throws ConfigError (printed by the caller) for a bad config.
ExperimentConfig load_and_log(const std::string& file, const std::vector<std::string>& overrides,
                              const std::string& cli_log_level, const std::string& role, int rank = -1,
                              int world_size = -1);

/// Prints every config problem as FILE:LINE:COL: message; returns kExitBadInput.
int report_config_error(const std::exception& e);

/// The bearer token from reward.auth_token_file (first line, trimmed) or the environment variable named
/// by reward.auth_token_env; "" when neither is configured. Throws seer::Error naming the file or
/// variable when it is configured but missing or empty.
std::string read_auth_token(const RewardConfig& reward);
/// The same for the coordinator: cluster.auth_token_file / cluster.auth_token_env.
std::string read_auth_token(const ClusterConfig& cluster);

/// Where each process serves /metrics when metrics.port = P is set (deploy/prometheus/prometheus.yml scrapes
/// these): learner rank r on P + r, the reward service on P + 100, rollout worker i on P + 200 + i.
inline constexpr int kMetricsOffsetReward = 100;
inline constexpr int kMetricsOffsetRollout = 200;

/// Starts a /metrics endpoint on metrics.address:port + port_offset (port 0 = a free one) when
/// metrics.prometheus is on; returns nullptr otherwise. Throws seer::Error when it cannot bind.
std::unique_ptr<prometheus::Exposer> start_metrics(const MetricsConfig& metrics,
                                                   const std::shared_ptr<prometheus::Registry>& registry,
                                                   int port_offset = 0);

/// The seer processes that share this host's cores.
struct HostProcesses {
  int learners = 1;  ///< learner ranks on this host
  int workers = 0;   ///< rollout workers on this host
};

/// Intra-op threads of one process and why (for the log and `seer run --dry-run`).
struct ThreadChoice {
  int threads = 1;
  std::string why;  ///< e.g. "plan: 2 cores / 1 learner rank; rollout.max_staleness 0: learners and workers alternate"
};

/// The thread plan (README "Threads"): a process gets the host's cores divided among the processes that
/// compute at the same time as it. Learner ranks compute together, and rollout workers compute together;
/// learners and workers compute at the same time only when the workers may run ahead (GRPO with
/// rollout.max_staleness > 0: they generate the next step's groups during the update). With max_staleness 0
/// (or SFT, or no worker on the host) they alternate, so each side gets every core. compute.learner_threads /
/// compute.rollout_threads, then compute.threads, override the plan. `role`: "learner", "rollout", or anything
/// else for a process alone on the host (eval).
ThreadChoice thread_choice(const ExperimentConfig& cfg, const std::string& role, const HostProcesses& host);

/// Applies the `compute` section for a process of kind `role` ("learner" uses compute.learner_dtype, anything
/// else compute.rollout_dtype): intra-op threads (thread_choice), the linear-layer backend (auto: measured now,
/// ~0.1 s) and dtype. Logs the choice. Throws seer::Error for an unusable choice (onednn without oneDNN).
void apply_compute(const ExperimentConfig& cfg, const std::string& role, const HostProcesses& host);

/// Cores this process may run on (its CPU affinity mask).
int cores_available();

/// Blocks SIGINT and SIGTERM in this thread and every thread it starts afterwards; call before starting
/// servers. wait_for_stop_signal() then returns the signal number when one arrives.
void block_stop_signals();
int wait_for_stop_signal();

/// A thread that waits for SIGINT/SIGTERM (blocked first with block_stop_signals) and sets `stop`, logging
/// `what_happens_next` once ("signal 15: <what_happens_next>"). The destructor ends and joins it.
class StopWatcher {
 public:
  StopWatcher(std::atomic<bool>& stop, std::string what_happens_next);
  ~StopWatcher();
  StopWatcher(const StopWatcher&) = delete;
  StopWatcher& operator=(const StopWatcher&) = delete;

 private:
  std::atomic<bool>& stop_;
  std::thread thread_;
};

}  // namespace seer::app
