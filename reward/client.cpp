#include "reward/client.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_map>

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "core/check.h"
#include "core/grpc_code.h"
#include "core/grpc_tls.h"
#include "proto/reward.grpc.pb.h"
#include "reward/proto_convert.h"

namespace seer::reward {

struct RewardClient::Impl {
  ClientOptions options;
  std::unique_ptr<v1::RewardService::Stub> stub;

  void prepare(grpc::ClientContext& ctx) const {
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::duration_cast<std::chrono::system_clock::duration>(
                         std::chrono::duration<double>(options.timeout_seconds)));
    if (!options.auth_token.empty()) ctx.AddMetadata("authorization", "Bearer " + options.auth_token);
  }
};

RewardClient::RewardClient(ClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  impl_->stub = v1::RewardService::NewStub(
      make_channel(impl_->options.address, impl_->options.tls, args));
}

RewardClient::~RewardClient() = default;

std::vector<Score> RewardClient::score(const std::vector<Sample>& samples) {
  v1::ScoreRequest req;
  for (size_t i = 0; i < samples.size(); ++i) {
    v1::Sample* p = req.add_samples();
    to_proto(samples[i], p);
    p->set_id(std::to_string(i));
  }
  const ClientOptions& o = impl_->options;
  double backoff = o.initial_backoff_seconds;
  grpc::Status status;
  v1::ScoreResponse resp;
  for (int attempt = 1; attempt <= std::max(1, o.max_attempts); ++attempt) {
    grpc::ClientContext ctx;
    impl_->prepare(ctx);
    resp.Clear();
    status = impl_->stub->Score(&ctx, req, &resp);
    if (status.ok()) break;
    // CANCELLED: the server shut down with our call in flight (it is going away, like UNAVAILABLE).
    const bool retry = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                       status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
                       status.error_code() == grpc::StatusCode::CANCELLED;
    if (!retry || attempt == o.max_attempts) break;
    spdlog::warn("reward service {} {} (attempt {}/{}): {}; retrying in {:.1f} s", o.address,
                 status.error_code() == grpc::StatusCode::UNAVAILABLE ? "unavailable" : "timed out", attempt,
                 o.max_attempts, status.error_message(), backoff);
    std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
    backoff = std::min(backoff * 2, 5.0);
  }
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE || status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
      status.error_code() == grpc::StatusCode::CANCELLED) {
    throw Unavailable(fmt::format("reward service {} unavailable after {} attempts: {} — is `seer reward` running there?",
                                  o.address, std::max(1, o.max_attempts), status.error_message()),
                      fmt::format("{}:{}", __FILE__, __LINE__));
  }
  SEER_CHECK(status.ok(), "reward service {} failed: gRPC status {}: {}{}", o.address,
             grpc_code_name(static_cast<int>(status.error_code())), status.error_message(),
             status.error_code() == grpc::StatusCode::UNAVAILABLE ? " — is `seer reward` running there?" : "");

  std::unordered_map<std::string, const v1::Result*> by_id;
  for (const auto& r : resp.results()) by_id[r.id()] = &r;
  std::vector<Score> out(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    auto it = by_id.find(std::to_string(i));
    SEER_CHECK(it != by_id.end(), "reward service {} returned no result for sample {} of {}", o.address, i,
               samples.size());
    out[i] = from_proto(*it->second);
  }
  return out;
}

bool RewardClient::healthy() {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  v1::HealthRequest req;
  v1::HealthResponse resp;
  return impl_->stub->Health(&ctx, req, &resp).ok() && resp.serving();
}

}  // namespace seer::reward
