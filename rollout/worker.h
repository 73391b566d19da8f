// The rollout worker loop (`seer rollout`): lease prompts from the coordinator, build them (chat template,
// image preprocessing on `rollout.preprocess_threads` threads), generate G completions per prompt with one
// vision pass and one prefill per call (model/generate.h), score them with the reward service, push the
// scored groups, and load newer weights between generation calls (never mid-group). A coordinator or
// reward service that does not answer is waited for, with backoff and a log line; a result is never
// dropped or faked.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/config.h"
#include "reward/client.h"
#include "rollout/coordinator_client.h"

namespace prometheus {
class Registry;
}

namespace seer::rollout {

struct WorkerOptions {
  std::string worker_id;                          ///< unique per worker (default in the CLI: host-pid)
  CoordinatorClientOptions coordinator;
  reward::ClientOptions reward;
  std::shared_ptr<prometheus::Registry> metrics;  ///< optional
  double max_wait_when_stopping_seconds = 60;     ///< after `stop`, how long to keep retrying the current push
};

struct WorkerSummary {
  int64_t groups_pushed = 0;   ///< groups the coordinator accepted (or acknowledged as duplicate)
  int64_t tokens = 0;          ///< completion tokens generated
  int64_t weight_syncs = 0;
  int64_t weight_version = -1; ///< the version held at exit
  bool finished = false;       ///< the coordinator said training is over
};

/// The first sampling seed of a worker (call n uses this + n): the config's seed mixed with the worker id, so
/// workers started with one config draw different samples, and a restarted worker with its id draws what it drew.
uint64_t sampling_seed(int64_t config_seed, const std::string& worker_id);

/// Runs until the coordinator says training is finished or `stop` is set (the group in progress is finished
/// and pushed first). Throws seer::Error for a refused RPC (e.g. a wrong token) or an unusable model.
WorkerSummary run_rollout_worker(const ExperimentConfig& config, const WorkerOptions& options,
                                 const std::atomic<bool>& stop);

}  // namespace seer::rollout
