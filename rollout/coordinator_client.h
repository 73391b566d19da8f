// The rollout worker's side of proto/coordinator.proto: a deadline on every call, the bearer token when
// configured, and weight chunks reassembled and verified (CRC-32 per chunk, checksum per version).
// No retries here: the worker loop decides (it retries seer::Unavailable forever, with backoff).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tls_options.h"
#include "trainer/weight_store.h"

namespace seer::coordinator::v1 {
class Group;
}

namespace seer::rollout {

struct CoordinatorClientOptions {
  std::string address;                ///< host:port of the coordinator (learner rank 0)
  std::string auth_token;             ///< "" = none
  TlsOptions tls;                     ///< verify the coordinator's certificate when tls.enabled(); plain text otherwise
  std::string image_inputs;           ///< sent with GetPrompts (ModelInputs::image_inputs()); "" = not checked
  double timeout_seconds = 30;        ///< deadline of GetPrompts and PushGroups
  int64_t max_message_bytes = 256 << 20;
};

/// A prompt as leased (see coordinator.proto Prompt).
struct LeasedPrompt {
  std::string prompt_id, row_id;
  std::vector<std::string> images;  ///< in prompt order
  std::string question, gold, answer_type;
  std::vector<std::string> options;
};

struct PromptLease {
  std::vector<LeasedPrompt> prompts;
  int64_t weight_version = -1;     ///< newest published
  bool reload_weights = false;
  bool finished = false;
  double retry_after_seconds = 0;
};

struct PushAck {
  int64_t accepted = 0, duplicate = 0, stale = 0, unknown = 0;
};

class CoordinatorClient {
 public:
  explicit CoordinatorClient(CoordinatorClientOptions options);
  ~CoordinatorClient();

  /// Throws seer::Unavailable when the coordinator does not answer, seer::Error when it refuses (e.g.
  /// UNAUTHENTICATED), naming the address and gRPC status.
  PromptLease get_prompts(const std::string& worker_id, int64_t max_prompts, int64_t weight_version);
  /// Streams `groups` in one PushGroups call. Same errors as get_prompts. Safe to repeat (idempotent).
  PushAck push(const std::vector<coordinator::v1::Group>& groups);
  /// The newest version if newer than `have_version` (waiting up to `wait_seconds` for one), else nullopt.
  /// Throws seer::Error when a chunk's CRC-32 or the version checksum does not match (nothing is returned).
  std::optional<trainer::WeightVersion> fetch_weights(const std::string& worker_id, int64_t have_version,
                                                      double wait_seconds);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seer::rollout
