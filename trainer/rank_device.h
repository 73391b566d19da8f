// The device of a learner rank: "cpu", or its own GPU ("cuda:<n>", core/gpu_choice.h) with every rank's
// choice compared, so a job that would put two ranks on one GPU stops at start-up with both named.
#pragma once

#include <string>

#include "core/config.h"
#include "trainer/communicator.h"

namespace seer::trainer {

/// model.device resolved for this rank (auto = CUDA when this build and machine have it). Collective: every
/// rank calls it. Throws seer::Error when the local rank has no GPU of its own or two ranks share one.
std::string rank_device(const ExperimentConfig& config, Communicator& comm);

}  // namespace seer::trainer
