// The reward service client used by rollout workers and `seer eval`: a deadline per call, bounded
// retries with exponential backoff while the service is UNAVAILABLE, and a clear error when it stays
// down. A failure is never turned into a reward: it throws.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/tls_options.h"
#include "reward/types.h"

namespace seer::reward {

struct ClientOptions {
  std::string address;               ///< host:port of `seer reward`
  std::string auth_token;            ///< sent as "authorization: Bearer <token>" when not empty
  TlsOptions tls;                    ///< verify the service's certificate when tls.enabled(); plain text otherwise
  double timeout_seconds = 30;       ///< deadline of one call
  int max_attempts = 5;              ///< attempts while UNAVAILABLE (or DEADLINE_EXCEEDED)
  double initial_backoff_seconds = 0.1;  ///< doubled after each failed attempt, capped at 5 s
};

class RewardClient {
 public:
  explicit RewardClient(ClientOptions options);
  ~RewardClient();

  /// Scores `samples`; result i belongs to samples[i] (matched by id, not position). Throws seer::Unavailable
  /// when the service is unavailable (or times out) after all attempts, and seer::Error naming the address
  /// and gRPC status when it refuses the request (e.g. UNAUTHENTICATED) or answers with missing results.
  /// Thread-safe.
  std::vector<Score> score(const std::vector<Sample>& samples);

  /// True when Health answers serving within the deadline (no retries).
  bool healthy();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seer::reward
