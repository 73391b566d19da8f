#include "app/process_setup.h"

#include <sched.h>
#include <signal.h>

#include <cstdio>
#include <thread>
#include <cstdlib>
#include <fstream>

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "app/commands.h"
#include "core/check.h"
#include "core/config_load.h"
#include "core/log.h"
#include "model/linear.h"

namespace seer::app {

ExperimentConfig load_and_log(const std::string& file, const std::vector<std::string>& overrides,
                              const std::string& cli_log_level, const std::string& role, int rank, int world_size) {
  ExperimentConfig cfg = file.empty() ? default_config(overrides) : load_config(file, overrides);
  log::init({role, rank, world_size}, cli_log_level.empty() ? cfg.log_level : cli_log_level);
  return cfg;
}

int report_config_error(const std::exception& e) {
  if (const auto* ce = dynamic_cast<const ConfigError*>(&e)) {
    for (const auto& issue : ce->issues()) std::fprintf(stderr, "%s\n", issue.to_string().c_str());
    std::fprintf(stderr, "seer: %zu config problem%s\n", ce->issues().size(), ce->issues().size() == 1 ? "" : "s");
  } else {
    std::fprintf(stderr, "seer: %s\n", e.what());
  }
  return kExitBadInput;
}

std::string read_auth_token(const std::string& file, const std::string& env, const std::string& section) {
  std::string token;
  if (!file.empty()) {
    std::ifstream in(file);
    SEER_CHECK(in.good(), "{}.auth_token_file '{}' cannot be read", section, file);
    std::getline(in, token);
    SEER_CHECK(!token.empty(), "{}.auth_token_file '{}': the first line (the token) is empty", section, file);
  } else if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    SEER_CHECK(v != nullptr && *v != '\0', "{}.auth_token_env names '{}', but that environment variable is {}", section,
               env, v == nullptr ? "not set" : "empty");
    token = v;
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\n')) token.pop_back();
  return token;
}

std::string read_auth_token(const RewardConfig& reward) {
  return read_auth_token(reward.auth_token_file, reward.auth_token_env, "reward");
}

std::string read_auth_token(const ClusterConfig& cluster) {
  return read_auth_token(cluster.auth_token_file, cluster.auth_token_env, "cluster");
}

std::unique_ptr<prometheus::Exposer> start_metrics(const MetricsConfig& metrics,
                                                   const std::shared_ptr<prometheus::Registry>& registry,
                                                   int port_offset) {
  if (!metrics.prometheus) return nullptr;
  const int port = metrics.port == 0 ? 0 : static_cast<int>(metrics.port) + port_offset;
  const std::string address = metrics.address + ":" + std::to_string(port);
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(address);
  } catch (const std::exception& e) {
    SEER_FAIL("cannot serve /metrics on {}: {} (set metrics.port, or 0 for a free port)", address, e.what());
  }
  exposer->RegisterCollectable(registry);
  const auto ports = exposer->GetListeningPorts();
  spdlog::info("metrics on http://{}:{}/metrics", metrics.address, ports.empty() ? port : ports.front());
  return exposer;
}

namespace {
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

int cores_available() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

ThreadChoice thread_choice(const ExperimentConfig& cfg, const std::string& role, const HostProcesses& host) {
  const ComputeConfig& c = cfg.compute;
  const bool learner = role == "learner", rollout = role == "rollout";
  const int64_t own = learner ? c.learner_threads : rollout ? c.rollout_threads : 0;
  if (own > 0) return {static_cast<int>(own), fmt::format("compute.{}_threads", role)};
  if (c.threads > 0) return {static_cast<int>(c.threads), "compute.threads"};
  const int cores = cores_available();
  if (!learner && !rollout) return {cores, fmt::format("plan: {} cores, alone on the host", cores)};
  const int learners = std::max(0, host.learners), workers = std::max(0, host.workers);
  const bool rl = cfg.algorithm.name != "sft";
  const bool overlap = rl && cfg.rollout.max_staleness > 0 && learners > 0 && workers > 0;
  const int same = std::max(1, learner ? learners : workers);
  const int sharing = overlap ? learners + workers : same;
  const int threads = std::max(1, cores / sharing);
  std::string who = fmt::format("{} {}{}", same, learner ? "learner rank" : "rollout worker", same == 1 ? "" : "s");
  if (overlap) {
    return {threads, fmt::format("plan: {} cores / {} processes computing at once (rollout.max_staleness {}: workers "
                                 "generate during the update)", cores, sharing, cfg.rollout.max_staleness)};
  }
  const std::string alone = !rl ? "SFT has no rollout" : (learner ? workers : learners) == 0
                                ? fmt::format("no {} on this host", learner ? "rollout worker" : "learner")
                                : "rollout.max_staleness 0: learners and workers alternate";
  return {threads, fmt::format("plan: {} cores / {}; {}", cores, who, alone)};
}

void apply_compute(const ExperimentConfig& cfg, const std::string& role, const HostProcesses& host) {
  const ComputeConfig& compute = cfg.compute;
  const ThreadChoice choice = thread_choice(cfg, role, host);
  at::set_num_threads(choice.threads);
  const std::string& setting = role == "learner" ? compute.learner_dtype : compute.rollout_dtype;
  // auto: float32 until the model has loaded (model::resolve_auto_precision measures on it)
  const auto dtype = setting == "auto" ? at::kFloat : model::parse_compute_dtype(setting);
  model::set_compute_dtype(dtype);
  // auto: measured on this process's own work: the learner's forward+backward products, or a decode step's
  // forward products over one call's rows (prompts_per_call x group_size) for workers and evaluation.
  const bool generates = role != "learner";
  const int64_t decode_rows = std::max<int64_t>(1, cfg.rollout.prompts_per_call * cfg.rollout.group_size);
  const model::MatmulBackend backend =
      compute.matmul == "auto" ? (generates ? model::measure_fastest_backend(512, decode_rows, false)
                                            : model::measure_fastest_backend(512))
                               : model::parse_matmul_backend(compute.matmul);
  model::set_matmul_backend(backend);
  // Decode steps multiply a few rows by every weight; split into small-kernel calls where that is measured faster
  // (measured with one thread: what a generation lane runs on).
  std::string few_rows = "off";
  if (backend == model::MatmulBackend::kBlas && dtype == at::kFloat) {
    const int threads = at::get_num_threads();
    at::set_num_threads(1);
    const double gain = model::measure_few_rows_split();
    at::set_num_threads(threads);
    model::set_split_few_rows(gain > 1.2);
    few_rows = fmt::format("{} ({:.1f}x measured at 8 rows)", gain > 1.2 ? "on" : "off", gain);
  }
  spdlog::info("compute: {} intra-op threads ({}), linear layers on {}{} in {}; few-row split {}", choice.threads,
               choice.why, model::to_string(backend),
               compute.matmul != "auto" ? "" : generates ? " (measured fastest on decode-step products)"
                                                         : " (measured fastest on learner products)",
               setting == "auto" ? "float32 until the model loads (auto)" : dtype == at::kBFloat16 ? "bfloat16" : "float32",
               few_rows);
}

void block_stop_signals() {
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_stop_signal() {
  const sigset_t set = stop_signals();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

StopWatcher::StopWatcher(std::atomic<bool>& stop, std::string what_happens_next)
    : stop_(stop), thread_([this, message = std::move(what_happens_next)] {
        const int sig = wait_for_stop_signal();
        if (!stop_.exchange(true) && sig != 0) spdlog::warn("signal {}: {}", sig, message);
      }) {}

StopWatcher::~StopWatcher() {
  if (!stop_.exchange(true)) pthread_kill(thread_.native_handle(), SIGTERM);  // wakes sigwait; stop already set
  thread_.join();
}

}  // namespace seer::app
