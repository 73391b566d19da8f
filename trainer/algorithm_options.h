// The `algorithm` and `trainer` config sections as the option structs of the update functions: one
// place, so the learner loop and tests configure GRPO alike.
#pragma once

#include "core/config.h"
#include "trainer/advantages.h"
#include "trainer/grpo_update.h"

namespace seer::trainer {

/// Throws seer::Error naming the field for an unknown estimator or scale.
AdvantageOptions advantage_options(const AlgorithmConfig& algorithm);

/// PolicyUpdateOptions of a run; `pad_id` comes from the model's inputs.
PolicyUpdateOptions policy_update_options(const ExperimentConfig& config, int64_t pad_id);

}  // namespace seer::trainer
