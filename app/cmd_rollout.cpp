// `seer rollout`: one rollout worker process (any number, on any host): leases prompts from the
// coordinator on learner rank 0, generates and scores groups, pushes them, follows the published weights.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "app/commands.h"
#include "app/process_setup.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "core/tls_options.h"
#include "rollout/worker.h"

namespace seer::app {
namespace {

struct RolloutArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string coordinator, reward, worker_id;
  int processes_on_host = 1;
  int workers_on_host = 1;   ///< rollout workers on this host (they generate at the same time)
  int worker_index = 0;  ///< metrics port offset: metrics.port + 200 + index
};

/// HOST:PORT from a flag, or from the first line of a file when the flag starts with '@' (the run folder's
/// coordinator.address, written by learner rank 0 once it listens).
std::string resolve_address(const std::string& flag) {
  if (flag.empty() || flag[0] != '@') return flag;
  std::string text = read_file(flag.substr(1));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  SEER_CHECK(!text.empty(), "{}: empty; expected host:port", flag.substr(1));
  return text;
}

std::string default_worker_id() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "host");
  return std::string(host) + "-" + std::to_string(getpid());
}

int rollout(const RolloutArgs& args, const Invocation& inv) {
  block_stop_signals();  // before any thread starts: only the watcher below sees SIGINT/SIGTERM
  ExperimentConfig cfg;
  try {
    cfg = load_and_log(args.config, args.overrides, inv.log_level, "rollout");
  } catch (const std::exception& e) {
    return report_config_error(e);
  }
  rollout::WorkerOptions o;
  try {
    HostProcesses host;
    host.workers = std::max(1, args.workers_on_host);
    host.learners = std::max(0, args.processes_on_host - host.workers);
    apply_compute(cfg, "rollout", host);
    o.worker_id = args.worker_id.empty() ? default_worker_id() : args.worker_id;
    o.coordinator.address = resolve_address(args.coordinator);
    if (o.coordinator.address.empty() && cfg.cluster.coordinator_port != 0) {
      o.coordinator.address = cfg.cluster.bind_address + ":" + std::to_string(cfg.cluster.coordinator_port);
    }
    SEER_CHECK(!o.coordinator.address.empty(),
               "no coordinator address: pass --coordinator HOST:PORT (or @RUN_DIR/coordinator.address), or set "
               "cluster.coordinator_port");
    o.coordinator.auth_token = read_auth_token(cfg.cluster);
    o.coordinator.tls = read_tls(cfg.cluster);
    o.coordinator.max_message_bytes = cfg.cluster.max_message_bytes;
    o.reward.address = resolve_address(args.reward);
    if (o.reward.address.empty() && cfg.reward.address.substr(cfg.reward.address.rfind(':') + 1) != "0") {
      o.reward.address = cfg.reward.address;
    }
    SEER_CHECK(!o.reward.address.empty(),
               "no reward service address: pass --reward HOST:PORT (or @FILE from `seer reward --port-file`), or set "
               "reward.address with a fixed port");
    o.reward.auth_token = read_auth_token(cfg.reward);
    o.reward.tls = o.coordinator.tls;
    o.reward.timeout_seconds = cfg.reward.request_timeout_seconds;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitBadInput;
  }

  std::atomic<bool> stop{false};
  StopWatcher watcher(stop, "finishing the current group, pushing it, then exiting");
  int code = 0;
  try {
    o.metrics = std::make_shared<prometheus::Registry>();
    auto exposer = start_metrics(cfg.metrics, o.metrics, kMetricsOffsetRollout + args.worker_index);
    const auto s = rollout::run_rollout_worker(cfg, o, stop);
    spdlog::info("worker {}: {} groups pushed, {} tokens generated, {} weight syncs, last weight version {}", o.worker_id,
                 s.groups_pushed, s.tokens, s.weight_syncs, s.weight_version);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    code = kExitBadInput;
  }
  return code;
}

}  // namespace

void add_rollout_command(CLI::App& app, Invocation& inv) {
  auto args = std::make_shared<RolloutArgs>();
  CLI::App* cmd = app.add_subcommand("rollout", "Rollout worker: generate, score and push trajectories");
  cmd->add_option("--config", args->config, "experiment config (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--coordinator", args->coordinator,
                  "coordinator HOST:PORT, or @FILE (e.g. @runs/NAME/coordinator.address)");
  cmd->add_option("--reward", args->reward, "reward service HOST:PORT, or @FILE (seer reward --port-file)");
  cmd->add_option("--worker-id", args->worker_id, "unique name of this worker (default: HOST-PID)");
  cmd->add_option("--processes-on-host", args->processes_on_host,
                  "seer processes sharing this host's cores, learners and workers (for the thread plan)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--workers-on-host", args->workers_on_host,
                  "rollout workers on this host, this one included (for the thread plan; default 1)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--worker-index", args->worker_index,
                  "this worker's number on its host: /metrics on metrics.port + 200 + INDEX (when metrics.port is set)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--set", args->overrides, "override a config key: section.key=value (repeatable)");
  cmd->callback([args, &inv] { inv.exit_code = rollout(*args, inv); });
}

}  // namespace seer::app
