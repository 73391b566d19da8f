// `seer train CONFIG`: one learner rank. Under mpirun (or srun) every rank runs this; the world comes from
// MPI, otherwise it is a world of one. SIGINT/SIGTERM stop training after the current step, with a
// checkpoint, so a preempted job loses nothing.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <thread>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "app/commands.h"
#include "app/preflight.h"
#include "app/process_setup.h"
#include "core/check.h"
#include "core/config_load.h"
#include "core/tls_options.h"
#include "trainer/communicator.h"
#include "trainer/learner.h"

namespace seer::app {
namespace {

struct TrainArgs : ExperimentArgs {
  int processes_on_host = 0;  ///< 0 = the learner ranks on this host (from the MPI launcher)
};

/// True when this process was started by an MPI launcher (OpenMPI's mpirun, or a PMIx launcher like srun).
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"}) {
    if (std::getenv(v) != nullptr) return true;
  }
  return false;
}

/// Learner ranks sharing this host (OpenMPI's local size), 1 otherwise.
int local_ranks() {
  const char* v = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  return v != nullptr ? std::max(1, std::atoi(v)) : 1;
}

int train(const TrainArgs& args, const Invocation& inv) {
  // First, before MPI, OpenMP or any other library starts a thread: every thread inherits the blocked
  // SIGINT/SIGTERM, so only the watcher below receives them (a thread that did not block them would take
  // the default action and kill the rank mid-step).
  block_stop_signals();
  std::unique_ptr<trainer::Communicator> comm;
  try {
    comm = launched_by_mpi() ? trainer::make_mpi_communicator() : trainer::make_single_communicator();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seer train: %s\n", e.what());
    return kExitBadInput;
  }
  const std::vector<std::string> overrides = args.overrides_with_resume();
  ExperimentConfig cfg;
  try {
    cfg = load_and_log(args.config, overrides, inv.log_level, "learner", comm->rank(), comm->world_size());
  } catch (const std::exception& e) {
    return report_config_error(e);
  }
  if (comm->world_size() != cfg.cluster.learner_ranks && comm->rank() == 0) {
    spdlog::warn("running {} learner rank(s) but cluster.learner_ranks = {}; the world from the launcher wins",
                 comm->world_size(), cfg.cluster.learner_ranks);
  }
  // Rank 0 runs the preflight; every rank learns the outcome, so a bad config never leaves ranks waiting.
  if (!args.no_preflight) {
    float ok = 1;
    if (comm->rank() == 0) ok = automatic_preflight(cfg, "seer train", true) ? 1 : 0;
    if (comm->world_size() > 1) {
      at::Tensor flag = at::full({1}, ok, at::kFloat);
      comm->broadcast(flag, 0);
      ok = flag.item<float>();
    }
    if (ok == 0) return kExitBadInput;
  }
  // Intra-op threads (the thread plan: the cores this process may use, shared among the processes on this host
  // that compute at the same time), linear-layer backend and dtype.
  try {
    HostProcesses host;
    host.learners = local_ranks();
    host.workers = std::max(0, args.processes_on_host - host.learners);
    apply_compute(cfg, "learner", host);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitBadInput;
  }

  std::atomic<bool> stop{false};
  auto watcher = std::make_unique<StopWatcher>(stop, "stopping after this step (with a checkpoint)");

  int code = 0;
  try {
    auto registry = std::make_shared<prometheus::Registry>();
    auto exposer = start_metrics(cfg.metrics, registry, comm->rank());
    if (comm->rank() == 0) {
      write_resolved_config(cfg, cfg.resolved_run_dir());
      spdlog::info("learner rank {}/{}; run folder {}", comm->rank(), comm->world_size(), cfg.resolved_run_dir());
    }
    trainer::LearnerEnvironment env;
    if (comm->rank() == 0) {
      env.coordinator_auth_token = read_auth_token(cfg.cluster);
      env.coordinator_tls = read_tls(cfg.cluster);
    }
    const auto result = trainer::run_learner(cfg, config_to_yaml(cfg), *comm, registry, stop, env);
    if (comm->rank() == 0) {
      spdlog::info("{} at step {}; last loss {:.4f}; checkpoint {}", result.stopped ? "stopped" : "finished",
                   result.steps_done, result.last_loss, result.checkpoint);
    }
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    code = kExitBadInput;
  }
  watcher.reset();
  return code;
}

}  // namespace

void add_train_command(CLI::App& app, Invocation& inv) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "Learner rank (run under mpirun for several): SFT and GRPO-family steps");
  add_experiment_args(cmd, *args);
  cmd->add_option("--processes-on-host", args->processes_on_host,
                  "seer processes sharing this host's cores, for compute.threads = 0 (default: the local ranks)")
      ->check(CLI::PositiveNumber);
  cmd->callback([args, &inv] { inv.exit_code = train(*args, inv); });
}

}  // namespace seer::app
