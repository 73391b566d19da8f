// The learner's outer loop on one rank: load (or resume) the policy, optimizer and data position; run
// trainer.steps steps; record metrics; checkpoint every checkpoint.every_steps and at exit (also when
// stopped by a signal). Algorithm `sft` trains on conversation rows of data.train; the GRPO family gets
// its groups from rollout workers through the coordinator.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/config.h"
#include "core/tls_options.h"
#include "trainer/communicator.h"

namespace prometheus { class Registry; }

namespace seer::trainer {

struct LearnerResult {
  int64_t steps_done = 0;        ///< the run's step counter at exit (resumed steps included)
  double last_loss = 0;
  std::string checkpoint;        ///< the last checkpoint written ("" = none)
  bool stopped = false;          ///< ended early by `stop`
};

/// What main() hands the learner besides the config (secrets are read there, not below).
struct LearnerEnvironment {
  std::string coordinator_auth_token;  ///< "" = the coordinator takes RPCs without a token
  TlsOptions coordinator_tls;          ///< the coordinator's TLS (cluster.tls_*); off = plain text
};

/// Runs the learner. `config_yaml` is the resolved config, saved into every checkpoint. `registry` may be
/// null. `stop` is polled between steps (collectively, so all ranks stop after the same step). Throws
/// seer::Error for unusable data or models (naming the file and row).
LearnerResult run_learner(const ExperimentConfig& config, const std::string& config_yaml, Communicator& comm,
                          std::shared_ptr<prometheus::Registry> registry, const std::atomic<bool>& stop,
                          const LearnerEnvironment& env = {});

/// The checkpoint folder of a run: checkpoint.dir, or RUN_DIR/checkpoints.
std::string checkpoint_root(const ExperimentConfig& config);

}  // namespace seer::trainer
