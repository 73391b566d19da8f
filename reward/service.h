// The gRPC reward service (`seer reward`): each method is a thin adapter — auth and limits, the plain
// scorer (reward/scorer.h) on a thread pool with a per-sample time budget, status mapping, metrics.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/tls_options.h"
#include "reward/types.h"

namespace prometheus {
class Registry;
}

namespace seer::reward {

struct ServerOptions {
  std::string address = "127.0.0.1:0";  ///< host:port; port 0 picks a free one
  int threads = 4;                      ///< scoring threads
  int64_t max_request_bytes = 16 << 20; ///< larger requests are refused (RESOURCE_EXHAUSTED, by gRPC)
  int64_t max_samples_per_request = 8192;  ///< requests with more samples are refused (RESOURCE_EXHAUSTED, counted)
  std::string auth_token;               ///< "" = no auth; else requests need "authorization: Bearer <token>"
  TlsOptions tls;                       ///< TLS when tls.enabled() (cluster.tls_*); plain text otherwise
  ScoringOptions scoring;
  std::shared_ptr<prometheus::Registry> metrics;  ///< optional: counters and histograms are added here
  /// The scorer run for each sample; empty = score_sample (reward/scorer.h). Tests put failures here. A scorer
  /// that throws makes that sample UNSCORABLE (never 0); the request's other samples are scored as usual.
  std::function<Score(const Sample&, const ScoringOptions&)> scorer;
};

/// A running reward server. Thread-safe; the destructor shuts it down (in-flight requests finish).
class RewardServer {
 public:
  /// Binds and starts serving. Throws seer::Error naming the address when it cannot bind.
  explicit RewardServer(ServerOptions options);
  ~RewardServer();
  RewardServer(const RewardServer&) = delete;
  RewardServer& operator=(const RewardServer&) = delete;

  /// The bound port (the real one when the address asked for port 0).
  int port() const;
  /// "host:port" with the bound port.
  std::string address() const;
  /// Stops accepting requests; waits up to `grace_seconds` for in-flight ones, then cancels them.
  void shutdown(double grace_seconds);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seer::reward
