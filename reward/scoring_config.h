// The scoring options of a run, from its config (`reward` and the overlong settings of `algorithm`):
// one place, so the reward service, evaluation and tests score alike.
#pragma once

#include "core/config.h"
#include "reward/types.h"

namespace seer::reward {

/// Throws seer::Error for an unknown bbox frame (the config schema refuses it earlier).
ScoringOptions scoring_options(const ExperimentConfig& config);

}  // namespace seer::reward
