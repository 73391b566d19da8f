// `seer run CONFIG`: the whole loop on one machine. Starts the reward service, the learner ranks (via
// mpirun when cluster.learner_ranks > 1) and rollout.workers rollout workers (GRPO family; SFT needs only
// the learner), each with its log in RUN_DIR/logs; mirrors the learner's log to the terminal; restarts a
// worker or reward service that dies; forwards SIGINT/SIGTERM (the learner checkpoints after its current
// step; a second signal kills at once); returns the learner's exit status. Nothing outlives it.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "app/child_process.h"
#include "app/commands.h"
#include "app/preflight.h"
#include "app/log_tail.h"
#include "app/process_setup.h"
#include "core/check.h"
#include "core/config_load.h"

namespace seer::app {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct RunArgs : ExperimentArgs {
  int max_restarts = 3;
  bool dry_run = false;
};

/// `seer run --dry-run`: what a run of `cfg` would start (processes, ranks, threads, addresses, files) and
/// the resolved config, printed to stdout; nothing is created or started.
void print_plan(const ExperimentConfig& cfg, const std::string& seer) {
  const bool rl = cfg.algorithm.name != "sft";
  const int64_t ranks = cfg.cluster.learner_ranks, workers = rl ? cfg.rollout.workers : 0;
  const std::string run_dir = cfg.resolved_run_dir(), logs = run_dir + "/logs";
  const HostProcesses host{static_cast<int>(ranks), static_cast<int>(workers)};
  const ThreadChoice learner_threads = thread_choice(cfg, "learner", host), rollout_threads = thread_choice(cfg, "rollout", host);
  const std::string threads = fmt::format("{} threads each [{}]", learner_threads.threads, learner_threads.why);
  const std::string worker_threads = fmt::format("{} threads [{}]", rollout_threads.threads, rollout_threads.why);
  std::printf("seer run --dry-run: %s (%s), nothing started\n", cfg.name.c_str(), cfg.algorithm.name.c_str());
  std::printf("run folder   %s (resolved config: %s/config.yaml; checkpoints: %s)\n", run_dir.c_str(), run_dir.c_str(),
              cfg.checkpoint.dir.empty() ? (run_dir + "/checkpoints").c_str() : cfg.checkpoint.dir.c_str());
  if (rl) {
    std::printf("process      reward service: %s reward --config %s/config.yaml, listens on %s, %lld scoring threads, log %s/reward.log\n",
                seer.c_str(), run_dir.c_str(), cfg.reward.address.c_str(), static_cast<long long>(cfg.reward.threads), logs.c_str());
  }
  std::printf("process      learner: %lld rank(s)%s, %s, coordinator on %s:%lld, log %s/learner.log\n",
              static_cast<long long>(ranks), ranks > 1 ? fmt::format(" under {} -np {}", cfg.cluster.mpirun, ranks).c_str() : "",
              threads.c_str(), cfg.cluster.bind_address.c_str(), static_cast<long long>(cfg.cluster.coordinator_port), logs.c_str());
  for (int64_t i = 0; i < workers; ++i) {
    std::printf("process      rollout-%lld: group size %lld, %lld prompts per call, %s, log %s/rollout-%lld.log\n",
                static_cast<long long>(i), static_cast<long long>(cfg.rollout.group_size),
                static_cast<long long>(cfg.rollout.prompts_per_call), worker_threads.c_str(), logs.c_str(), static_cast<long long>(i));
  }
  std::printf("model        %s\n", cfg.model.path.c_str());
  std::printf("data         train %s, eval %s\n", cfg.data.train.c_str(), cfg.data.eval.empty() ? "(none)" : cfg.data.eval.c_str());
  if (cfg.metrics.prometheus) {
    std::printf("metrics      /metrics on %s, first port %lld (0 = free ports)\n", cfg.metrics.address.c_str(),
                static_cast<long long>(cfg.metrics.port));
  }
  std::printf("--- resolved config\n%s", config_to_yaml(cfg).c_str());
}

std::string self_exe() {
  std::error_code ec;
  const auto p = fs::read_symlink("/proc/self/exe", ec);
  SEER_CHECK(!ec, "cannot find the seer executable (/proc/self/exe): {}", ec.message());
  return p.string();
}

/// Copies new lines of a log file to stdout (the learner's progress in the terminal).
class LogMirror {
 public:
  explicit LogMirror(std::string path) : path_(std::move(path)) {}
  void pump() {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return;
    in.seekg(offset_);
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t end = chunk.rfind('\n');
    if (end == std::string::npos) return;
    std::fwrite(chunk.data(), 1, end + 1, stdout);
    std::fflush(stdout);
    offset_ += static_cast<std::streamoff>(end + 1);
  }

 private:
  std::string path_;
  std::streamoff offset_ = 0;
};

/// A stop signal if one is pending (the signals are blocked in this process), else 0. Waits up to `ms`.
int poll_stop_signal(int ms) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  timespec ts{ms / 1000, static_cast<long>(ms % 1000) * 1000000L};
  const int sig = sigtimedwait(&set, nullptr, &ts);
  return sig > 0 ? sig : 0;
}

/// Waits for `file` to appear while `child` lives. Throws naming the child's log when it exits first.
void wait_for_file(const std::string& file, ChildProcess& child, double seconds, bool& stop_requested) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (!fs::exists(file)) {
    if (auto st = child.poll()) {
      SEER_FAIL("{}", with_log_excerpt(fmt::format("{} exited with status {} before it was ready", child.name(), *st),
                                        child.log_path()));
    }
    SEER_CHECK(Clock::now() < until, "{} not ready after {:.0f} s (no {}); see {}", child.name(), seconds, file,
               child.log_path());
    if (poll_stop_signal(100) != 0) {
      stop_requested = true;
      return;
    }
  }
}

int run(const RunArgs& args, const Invocation& inv) {
  block_stop_signals();
  std::vector<std::string> overrides = args.overrides;
  ExperimentConfig cfg;
  try {
    cfg = load_and_log(args.config, overrides, inv.log_level, "run");
  } catch (const std::exception& e) {
    return report_config_error(e);
  }
  if (args.dry_run) {
    print_plan(cfg, self_exe());
    return 0;
  }
  if (!args.no_preflight && !automatic_preflight(cfg, "seer run", false)) return kExitBadInput;
  const bool rl = cfg.algorithm.name != "sft";
  const std::string run_dir = cfg.resolved_run_dir();
  const std::string logs = run_dir + "/logs";
  int learner_status = 1;
  try {
    fs::create_directories(logs);
    write_resolved_config(cfg, run_dir);
    const std::string config_file = run_dir + "/config.yaml";
    const std::string seer = self_exe();
    const int64_t ranks = cfg.cluster.learner_ranks;
    const int64_t workers = rl ? cfg.rollout.workers : 0;
    const std::string processes = std::to_string(ranks + workers);
    std::map<std::string, std::string> env;
    // Idle OpenMP threads of one process must not spin on cores another process needs.
    if (std::getenv("OMP_WAIT_POLICY") == nullptr) env["OMP_WAIT_POLICY"] = "PASSIVE";
    // OpenMPI refuses to run as root unless told; containers commonly run as root. Only for the mpirun seer
    // starts itself (a user's own mpirun keeps their choice), and only when the user has not set it.
    if (ranks > 1 && ::geteuid() == 0 && std::getenv("OMPI_ALLOW_RUN_AS_ROOT") == nullptr) {
      env["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
      env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
      spdlog::info("seer run: running as root, so the learner's mpirun is allowed to (OMPI_ALLOW_RUN_AS_ROOT=1)");
    }
    spdlog::info("seer run: {} in {} ({} learner rank(s){}); logs in {}", cfg.algorithm.name, run_dir, ranks,
                 rl ? fmt::format(", {} rollout worker(s), reward service", workers) : std::string(), logs);

    bool stop_requested = false;
    std::unique_ptr<ChildProcess> reward;
    const std::string reward_file = run_dir + "/reward.address";
    auto start_reward = [&] {
      fs::remove(reward_file);
      reward = std::make_unique<ChildProcess>(
          "reward service", std::vector<std::string>{seer, "reward", "--config", config_file, "--port-file", reward_file},
          logs + "/reward.log", env);
    };
    if (rl) {
      start_reward();
      wait_for_file(reward_file, *reward, 60, stop_requested);
    }

    const std::string coordinator_file = run_dir + "/coordinator.address";
    fs::remove(coordinator_file);
    std::vector<std::string> learner_argv;
    if (ranks > 1) {
      learner_argv = {cfg.cluster.mpirun, "-np", std::to_string(ranks)};
      learner_argv.insert(learner_argv.end(), cfg.cluster.mpirun_args.begin(), cfg.cluster.mpirun_args.end());
    }
    for (const std::string& a : {seer, std::string("train"), config_file, std::string("--processes-on-host"), processes}) {
      learner_argv.push_back(a);
    }
    if (args.resume) learner_argv.push_back("--resume");
    if (args.no_resume) learner_argv.push_back("--no-resume");
    learner_argv.push_back("--no-preflight");  // checked above, with the launcher and every process's addresses
    ChildProcess learner("learner", learner_argv, logs + "/learner.log", env);
    LogMirror mirror(logs + "/learner.log");

    std::vector<std::unique_ptr<ChildProcess>> pool(static_cast<size_t>(workers));
    std::vector<int> restarts(pool.size(), 0);
    auto start_worker = [&](size_t i) {
      const std::string id = "rollout-" + std::to_string(i);
      pool[i] = std::make_unique<ChildProcess>(
          id,
          std::vector<std::string>{seer, "rollout", "--config", config_file, "--coordinator", "@" + coordinator_file,
                                   "--reward", "@" + reward_file, "--worker-id", id, "--worker-index", std::to_string(i),
                                   "--processes-on-host", processes, "--workers-on-host", std::to_string(workers)},
          logs + "/" + id + ".log", env);
    };
    if (rl && !stop_requested) {
      wait_for_file(coordinator_file, learner, 600, stop_requested);
      for (size_t i = 0; i < pool.size() && !stop_requested; ++i) start_worker(i);
    }

    int signals = stop_requested ? 1 : 0;
    if (stop_requested) learner.signal(SIGTERM);
    auto first_signal = Clock::now();
    int reward_restarts = 0;
    while (!learner.poll()) {
      mirror.pump();
      if (const int sig = poll_stop_signal(200)) {
        // A repeat within a second is the same request: `timeout` (without --foreground) signals this
        // process and then its whole process group, so one stop arrives twice; a person's second Ctrl-C
        // comes later.
        if (signals == 1 && Clock::now() - first_signal < std::chrono::seconds(1)) continue;
        ++signals;
        if (signals == 1) first_signal = Clock::now();
        if (signals == 1) {
          spdlog::warn("signal {}: the learner stops after its current step and checkpoints (again: kill now)", sig);
          learner.signal(SIGTERM);
        } else {
          spdlog::warn("signal {} again: killing everything", sig);
          learner.signal(SIGKILL);
        }
      }
      if (signals > 0) continue;
      for (size_t i = 0; i < pool.size(); ++i) {  // a worker that died is replaced (its leases come back)
        if (!pool[i]) continue;
        auto st = pool[i]->poll();
        if (!st || *st == 0) continue;
        if (restarts[i] >= args.max_restarts) {
          spdlog::error("{}", with_log_excerpt(fmt::format("{} exited with status {} again; not restarting it",
                                                           pool[i]->name(), *st), pool[i]->log_path()));
          pool[i].reset();
          continue;
        }
        ++restarts[i];
        spdlog::warn("{} exited with status {} (see {}); restarting it", pool[i]->name(), *st, pool[i]->log_path());
        start_worker(i);
      }
      if (reward) {
        if (auto st = reward->poll(); st && reward_restarts < args.max_restarts) {
          ++reward_restarts;
          spdlog::warn("the reward service exited with status {} (see {}); restarting it", *st, reward->log_path());
          start_reward();
        }
      }
    }
    learner_status = *learner.poll();
    mirror.pump();
    // Workers leave by themselves when the coordinator says training is over; anything left is stopped.
    for (auto& w : pool) {
      if (w) w->stop(15.0);
    }
    if (reward) reward->stop(10.0);
    if (learner_status == 0) {
      spdlog::info("seer run: {} finished; run folder {}", cfg.name, run_dir);
    } else {
      spdlog::error("{}", with_log_excerpt(fmt::format("seer run: the learner exited with status {}", learner_status),
                                           logs + "/learner.log"));
    }
  } catch (const std::exception& e) {
    spdlog::error("seer run: {}", e.what());
    return learner_status == 0 ? 1 : learner_status;
  }
  return learner_status;
}

}  // namespace

void add_run_command(CLI::App& app, Invocation& inv) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd =
      app.add_subcommand("run", "Start reward service, rollout workers and learners on this machine, and stop them cleanly");
  add_experiment_args(cmd, *args);
  cmd->add_option("--max-restarts", args->max_restarts, "restarts of a rollout worker or the reward service that dies")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--dry-run", args->dry_run,
                "print the processes, ranks, threads, addresses, files and resolved config it would use, then exit");
  cmd->callback([args, &inv] { inv.exit_code = run(*args, inv); });
}

}  // namespace seer::app
