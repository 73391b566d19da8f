// Conversions between the coordinator's wire types (proto/coordinator.proto) and the learner's Group, and
// the step batch rank 0 broadcasts to the other learner ranks. Validation happens here, once: a malformed
// group is refused with a message naming it, before it can reach a loss.
#pragma once

#include <string>
#include <vector>

#include "proto/coordinator.pb.h"
#include "trainer/grpo_update.h"

namespace seer::trainer {

/// A pushed group as a learner Group (pixel_values left undefined; completions carry their version).
/// Throws seer::Error naming the group when response ids and log-probs differ in length, a sample has no
/// tokens, or the group has no prompt ids.
Group group_from_proto(const coordinator::v1::Group& g);

/// The inverse (without worker id and checksum).
coordinator::v1::Group group_to_proto(const Group& g, int64_t weight_version);

/// Serialises / parses a step's groups (coordinator::v1::StepBatch). parse throws seer::Error on bad bytes.
std::string serialize_step_batch(const std::vector<Group>& groups);
std::vector<Group> parse_step_batch(const std::string& bytes);

}  // namespace seer::trainer
