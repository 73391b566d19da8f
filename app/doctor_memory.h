// `seer doctor --config C.yaml`: the per-GPU memory estimate of a configured run (trainer/memory_estimate.h)
// as a table, with whether it fits and what would make it fit.
#pragma once

#include <string>
#include <vector>

namespace seer::app {

/// Prints the estimate for `config` (+ `overrides`) on `learner_ranks` ranks (<= 0: cluster.learner_ranks) of
/// `gpu_gib` GiB GPUs, with `attention` "eager", "sdpa" or "auto" (this build's: model::attention_is_sdpa()). Returns 0 when both the learner and the rollout worker fit, 3 when one does not,
/// kExitBadInput for a bad config or model config.json (the message names the file and key).
int doctor_memory(const std::string& config, const std::vector<std::string>& overrides, double gpu_gib,
                  int learner_ranks, const std::string& attention);

}  // namespace seer::app
