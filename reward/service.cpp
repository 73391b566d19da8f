#include "reward/service.h"

#include <chrono>
#include <future>
#include <mutex>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "core/bearer_token.h"
#include "core/check.h"
#include "core/grpc_tls.h"
#include "core/thread_pool.h"
#include "proto/reward.grpc.pb.h"
#include "reward/proto_convert.h"
#include "reward/scorer.h"
#include "seer/build_info.h"

namespace seer::reward {
namespace {

/// Prometheus instruments of the service (names follow ../shared/design/architecture.md).
struct Metrics {
  explicit Metrics(prometheus::Registry& r)
      : requests(prometheus::BuildCounter()
                     .Name("seer_reward_requests_total")
                     .Help("Score requests by gRPC status code")
                     .Register(r)),
        refused(prometheus::BuildCounter()
                    .Name("seer_reward_refused_total")
                    .Help("Score requests refused over a limit, by limit")
                    .Register(r)),
        statuses(prometheus::BuildCounter()
                     .Name("seer_reward_status_total")
                     .Help("Scored samples by reward status")
                     .Register(r)),
        latency(prometheus::BuildHistogram()
                    .Name("seer_reward_request_seconds")
                    .Help("Score request latency on the server, seconds")
                    .Register(r)),
        latency_all(latency.Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                                             0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5})) {
    // Every series exists from the start (at 0), so dashboards and rate() see it before the first event.
    for (Status st : {Status::kOk, Status::kNoAnswer, Status::kTruncated, Status::kGoldUnparseable,
                      Status::kUnscorable}) {
      statuses.Add({{"status", std::string(to_string(st))}});
    }
    requests.Add({{"code", "0"}});
    refused.Add({{"limit", "max_samples_per_request"}});
  }
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Counter>& refused;
  prometheus::Family<prometheus::Counter>& statuses;
  prometheus::Family<prometheus::Histogram>& latency;
  prometheus::Histogram& latency_all;
};

class Service final : public v1::RewardService::Service {
 public:
  explicit Service(const ServerOptions& o)
      : options_(o), pool_(o.threads), started_(std::chrono::steady_clock::now()) {
    if (o.metrics) metrics_ = std::make_unique<Metrics>(*o.metrics);
  }

  grpc::Status Score(grpc::ServerContext* ctx, const v1::ScoreRequest* req, v1::ScoreResponse* resp) override {
    const auto t0 = std::chrono::steady_clock::now();
    grpc::Status status = authorize(*ctx);
    if (status.ok() && req->samples_size() > options_.max_samples_per_request) {
      if (metrics_) metrics_->refused.Add({{"limit", "max_samples_per_request"}}).Increment();
      status = {grpc::StatusCode::RESOURCE_EXHAUSTED,
                fmt::format("Score request with {} samples is over reward.max_samples_per_request {}; send fewer per call",
                            req->samples_size(), options_.max_samples_per_request)};
    }
    if (status.ok()) status = score_all(*req, resp);
    record(status, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return status;
  }

  grpc::Status Health(grpc::ServerContext* ctx, const v1::HealthRequest*, v1::HealthResponse* resp) override {
    grpc::Status status = authorize(*ctx);
    if (!status.ok()) return status;
    resp->set_serving(true);
    resp->set_version(build::kVersion);
    resp->set_uptime_seconds(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count()));
    return grpc::Status::OK;
  }

 private:
  grpc::Status authorize(const grpc::ServerContext& ctx) const {
    if (options_.auth_token.empty()) return grpc::Status::OK;
    const auto& md = ctx.client_metadata();
    auto it = md.find("authorization");
    if (it == md.end() || !bearer_matches(std::string(it->second.data(), it->second.size()), options_.auth_token)) {
      return {grpc::StatusCode::UNAUTHENTICATED, "missing or wrong bearer token (see reward.auth_token_* in the config)"};
    }
    return grpc::Status::OK;
  }

  /// Scores every sample on the pool; a sample that overruns its budget (by a margin for scheduling)
  /// is UNSCORABLE, never 0. Results come back in request order, with the request's ids.
  grpc::Status score_all(const v1::ScoreRequest& req, v1::ScoreResponse* resp) {
    std::vector<std::future<reward::Score>> futures;
    futures.reserve(static_cast<size_t>(req.samples_size()));
    for (const auto& p : req.samples()) {
      auto sample = std::make_shared<Sample>(from_proto(p));
      futures.push_back(pool_.submit([sample, scoring = options_.scoring, scorer = options_.scorer] {
        try {
          return scorer ? scorer(*sample, scoring) : score_sample(*sample, scoring);
        } catch (const std::exception& e) {  // one sample's failure is its own, never the request's, never a 0
          reward::Score s;
          s.status = Status::kUnscorable;
          s.detail = fmt::format("the scorer failed: {}", e.what());
          return s;
        } catch (...) {
          reward::Score s;
          s.status = Status::kUnscorable;
          s.detail = "the scorer failed";
          return s;
        }
      }));
    }
    // Queueing counts against the whole request, not against each sample's own budget.
    const double per_sample = options_.scoring.budget_seconds > 0 ? options_.scoring.budget_seconds : 3600.0;
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(
                              per_sample * (1.0 + static_cast<double>(req.samples_size()) / pool_.size()) + 1.0));
    for (int i = 0; i < req.samples_size(); ++i) {
      reward::Score s;
      auto& f = futures[static_cast<size_t>(i)];
      if (f.wait_until(deadline) == std::future_status::ready) {
        s = f.get();
      } else {
        s.status = Status::kUnscorable;
        s.detail = "scoring exceeded its time budget";
      }
      v1::Result* r = resp->add_results();
      r->set_id(req.samples(i).id());
      to_proto(s, r);
      if (metrics_) metrics_->statuses.Add({{"status", std::string(to_string(s.status))}}).Increment();
    }
    return grpc::Status::OK;
  }

  void record(const grpc::Status& status, double seconds) {
    if (!metrics_) return;
    metrics_->requests.Add({{"code", std::to_string(static_cast<int>(status.error_code()))}}).Increment();
    metrics_->latency_all.Observe(seconds);
  }

  ServerOptions options_;
  ThreadPool pool_;
  std::chrono::steady_clock::time_point started_;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace

struct RewardServer::Impl {
  explicit Impl(const ServerOptions& o) : service(o), host(o.address.substr(0, o.address.rfind(':'))) {}
  Service service;
  std::unique_ptr<grpc::Server> server;
  std::string host;
  int port = 0;
  std::once_flag stopped;
};

RewardServer::RewardServer(ServerOptions options) : impl_(std::make_unique<Impl>(options)) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.address,
                           server_credentials(options.tls, options.address, !options.auth_token.empty(), "reward service"),
                           &impl_->port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_request_bytes));
  builder.SetMaxSendMessageSize(-1);
  builder.RegisterService(&impl_->service);
  impl_->server = builder.BuildAndStart();
  SEER_CHECK(impl_->server != nullptr && impl_->port > 0,
             "reward service cannot listen on '{}' (address in use, or not host:port?)", options.address);
}

RewardServer::~RewardServer() { shutdown(5.0); }

int RewardServer::port() const { return impl_->port; }

std::string RewardServer::address() const { return impl_->host + ":" + std::to_string(impl_->port); }

void RewardServer::shutdown(double grace_seconds) {
  std::call_once(impl_->stopped, [&] {
    impl_->server->Shutdown(std::chrono::system_clock::now() +
                            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                std::chrono::duration<double>(grace_seconds)));
    impl_->server->Wait();
  });
}

}  // namespace seer::reward
