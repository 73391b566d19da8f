// The GRPO-family learner loop (algorithm.name grpo): rank 0 runs the coordinator (trainer/coordinator.h)
// and publishes weights; every step, rank 0 takes prompts_per_step scored groups from it, broadcasts them,
// and every rank trains on its share (trainer/grpo_update.h). Internal to trainer/ (called by run_learner).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "trainer/learner.h"
#include "trainer/learner_core.h"

namespace seer::trainer {

/// Runs GRPO steps from `core` until trainer.steps or `stop`. Rank 0 writes RUN_DIR/coordinator.address
/// (host:port, for `seer rollout --coordinator`) once it listens, and RUN_DIR/groups.jsonl (a line per
/// step: the prompt ids, versions and rewards trained on). Throws seer::Error.
LearnerResult run_grpo_learner(const ExperimentConfig& c, const std::string& config_yaml, Communicator& comm,
                               std::shared_ptr<prometheus::Registry> registry, const std::atomic<bool>& stop,
                               const LearnerEnvironment& env, LearnerCore& core);

}  // namespace seer::trainer
