// One GRPO step's batch from learner rank 0 (which holds the coordinator) to every rank, and the agreement to
// stop: ranks poll in short collective rounds, so ranks waiting for rollouts sleep instead of spinning inside a
// blocking broadcast, and every rank leaves on the same round.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "trainer/communicator.h"

namespace seer::trainer {

class Coordinator;

/// Rank 0 (`coord` set; nullptr on the other ranks) takes `count` groups trainable at weight `version` and
/// every rank receives them serialized (trainer/group_proto.h). Returns "" on every rank when any rank's `stop`
/// is set: a stop request wins over a batch that is ready, so a learner told to stop trains no further step
/// even while rollout workers keep the buffer full. Groups are not taken once `stop` is seen on rank 0.
/// `wait_seconds` gets the time spent waiting. Collective: every rank must call it. Throws what the
/// communicator throws.
std::string receive_batch(Coordinator* coord, Communicator& comm, int64_t count, int64_t version,
                          const std::atomic<bool>& stop, double& wait_seconds);

}  // namespace seer::trainer
