#include "trainer/coordinator.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

#include <grpcpp/grpcpp.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <zlib.h>

#include "core/bearer_token.h"
#include "core/check.h"
#include "core/grpc_tls.h"
#include "proto/coordinator.grpc.pb.h"
#include "trainer/group_proto.h"
#include "trainer/prompt_ledger.h"
#include "trainer/trajectory_buffer.h"

namespace seer::trainer {
namespace {

namespace v1 = coordinator::v1;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point origin) {
  return std::chrono::duration<double>(Clock::now() - origin).count();
}

/// Prometheus instruments (every series exists from the start, at 0).
struct Metrics {
  explicit Metrics(prometheus::Registry& r)
      : groups(prometheus::BuildCounter()
                   .Name("seer_coordinator_groups_total")
                   .Help("Groups pushed by rollout workers, by what became of them")
                   .Register(r)),
        unauthenticated(prometheus::BuildCounter()
                            .Name("seer_coordinator_unauthenticated_total")
                            .Help("Coordinator RPCs refused for a missing or wrong bearer token")
                            .Register(r)
                            .Add({})),
        refused(prometheus::BuildCounter()
                    .Name("seer_coordinator_refused_total")
                    .Help("Coordinator requests refused over a limit, by limit")
                    .Register(r)
                    .Add({{"limit", "max_groups_per_push"}})),
        leased(prometheus::BuildCounter()
                   .Name("seer_prompts_leased_total")
                   .Help("Prompt leases handed to rollout workers (re-leases included)")
                   .Register(r)
                   .Add({})),
        weight_bytes(prometheus::BuildCounter()
                         .Name("seer_weight_sync_bytes_total")
                         .Help("Weight bytes streamed to rollout workers")
                         .Register(r)
                         .Add({})),
        buffered(prometheus::BuildGauge()
                     .Name("seer_trajectory_buffer_groups")
                     .Help("Scored groups waiting for a learner step")
                     .Register(r)
                     .Add({})) {
    for (const char* result : {"accepted", "duplicate", "stale", "unknown", "checksum_mismatch", "equal_rewards", "unusable"}) {
      groups.Add({{"result", result}});
    }
  }
  void count(const char* result) { groups.Add({{"result", result}}).Increment(); }
  prometheus::Family<prometheus::Counter>& groups;
  prometheus::Counter& unauthenticated;
  prometheus::Counter& refused;
  prometheus::Counter& leased;
  prometheus::Counter& weight_bytes;
  prometheus::Gauge& buffered;
};

struct WorkerSeen {
  Clock::time_point last_seen;
  bool told_finished = false;
};

}  // namespace

struct Coordinator::Impl final : public v1::Coordinator::Service {
  Impl(CoordinatorOptions o, std::vector<dataset::Row> r, DataOrder order)
      : options(std::move(o)),
        rows(std::move(r)),
        ledger(std::move(order), options.lease_seconds, options.prompts_per_step * (options.max_staleness + 1)),
        buffer(options.dynamic_sampling, options.max_staleness),
        started(Clock::now()) {
    if (options.metrics) metrics = std::make_unique<Metrics>(*options.metrics);
    ledger.skip(options.skip_prompts);
  }

  grpc::Status authorize(const grpc::ServerContext& ctx) {
    if (options.auth_token.empty()) return grpc::Status::OK;
    const auto& md = ctx.client_metadata();
    auto it = md.find("authorization");
    if (it == md.end() || !bearer_matches(std::string(it->second.data(), it->second.size()), options.auth_token)) {
      std::lock_guard<std::mutex> lock(mutex);
      ++counts.unauthenticated;
      if (metrics) metrics->unauthenticated.Increment();
      spdlog::warn("coordinator: refused an RPC from {} without the right bearer token", ctx.peer());
      return {grpc::StatusCode::UNAUTHENTICATED, "missing or wrong bearer token (see cluster.auth_token_* in the config)"};
    }
    return grpc::Status::OK;
  }

  void count(int64_t& counter, const char* result) {
    ++counter;
    if (metrics) metrics->count(result);
  }

  grpc::Status GetPrompts(grpc::ServerContext* ctx, const v1::GetPromptsRequest* req,
                          v1::GetPromptsResponse* resp) override {
    if (auto st = authorize(*ctx); !st.ok()) return st;
    if (req->worker_id().empty()) return {grpc::StatusCode::INVALID_ARGUMENT, "GetPrompts: worker_id is empty"};
    if (!options.image_inputs.empty() && !req->image_inputs().empty() && req->image_inputs() != options.image_inputs) {
      return {grpc::StatusCode::FAILED_PRECONDITION,
              fmt::format("worker '{}' preprocesses images as [{}] but the learner as [{}]: the prompts' image token "
                          "counts would not match the learner's images; give both the same model folder "
                          "(preprocessor_config.json) and image settings",
                          req->worker_id(), req->image_inputs(), options.image_inputs)};
    }
    std::lock_guard<std::mutex> lock(mutex);
    auto& w = workers[req->worker_id()];
    if (w.last_seen == Clock::time_point{}) spdlog::info("coordinator: rollout worker '{}' joined", req->worker_id());
    w.last_seen = Clock::now();
    resp->set_lease_seconds(options.lease_seconds);
    if (finished) {
      resp->set_finished(true);
      w.told_finished = true;
      cv.notify_all();
      return grpc::Status::OK;
    }
    const int64_t newest = latest ? latest->version : -1;
    resp->set_weight_version(newest);
    if (newest < 0) {
      resp->set_retry_after_seconds(0.5);
      return grpc::Status::OK;
    }
    if (req->weight_version() < 0 || newest - req->weight_version() > options.max_staleness) {
      resp->set_reload_weights(true);
      return grpc::Status::OK;
    }
    const int64_t n = std::clamp<int64_t>(req->max_prompts(), 1, 256);
    const auto leases = ledger.lease(req->worker_id(), n, seconds_since(started));
    for (const auto& l : leases) {
      const dataset::Row& row = rows[static_cast<size_t>(l.row)];
      auto* p = resp->add_prompts();
      p->set_prompt_id(l.prompt_id);
      p->set_row_id(row.id);
      for (const std::string& image : row.images) p->add_images(image);
      p->set_question(row.question);
      p->set_gold(row.answer);
      p->set_answer_type(row.answer_type);
      for (const auto& opt : row.options) p->add_options(opt);
      if (l.reissued) spdlog::info("coordinator: prompt {} handed out again, to {}", l.prompt_id, req->worker_id());
    }
    if (metrics) metrics->leased.Increment(static_cast<double>(leases.size()));
    if (leases.empty()) resp->set_retry_after_seconds(0.2);
    return grpc::Status::OK;
  }

  /// What becomes of one pushed group (mutex held).
  void receive(const v1::Group& g, v1::PushGroupsResponse* resp) {
    const std::string& id = g.group_id();
    const int64_t newest = latest ? latest->version : -1;
    if (!g.error().empty()) {
      const Receipt r = ledger.receive(id);
      if (r == Receipt::kAccepted) {
        ledger.done(id);
        count(counts.unusable, "unusable");
        spdlog::warn("coordinator: prompt {} cannot be used (worker {}): {}", id, g.worker_id(), g.error());
      } else {
        count(r == Receipt::kDuplicate ? counts.duplicate : counts.unknown, r == Receipt::kDuplicate ? "duplicate" : "unknown");
      }
      return;
    }
    if (newest - g.weight_version() > options.max_staleness) {
      count(counts.stale, "stale");
      resp->set_stale(resp->stale() + 1);
      ledger.release(id, g.worker_id());
      return;
    }
    auto known = checksums.find(g.weight_version());
    if (known != checksums.end() && known->second != g.weight_checksum()) {
      count(counts.checksum_mismatch, "checksum_mismatch");
      spdlog::error("coordinator: group {} from worker {} was generated by weights with checksum {:08x}, but "
                    "version {} has {:08x}; not trained on", id, g.worker_id(), g.weight_checksum(),
                    g.weight_version(), known->second);
      ledger.release(id, g.worker_id());
      return;
    }
    Group group;
    try {
      group = group_from_proto(g);
      // The learner reads the images it trains on from these paths: they must be the leased row's own, in
      // order (a worker cannot point the learner at another file, or pair a prompt with other images).
      const int64_t row = ledger.row_of(id);
      SEER_CHECK(row < 0 || group.images == rows[static_cast<size_t>(row)].images,
                 "group {}: its {} image path(s) are not the leased row's {}", id, group.images.size(),
                 rows[static_cast<size_t>(std::max<int64_t>(row, 0))].images.size());
    } catch (const Error& e) {
      spdlog::warn("coordinator: malformed group from worker {}: {}", g.worker_id(), e.what());
      ledger.release(id, g.worker_id());
      return;
    }
    switch (ledger.receive(id)) {
      case Receipt::kDuplicate:
        count(counts.duplicate, "duplicate");
        resp->set_duplicate(resp->duplicate() + 1);
        return;
      case Receipt::kUnknown:
        count(counts.unknown, "unknown");
        resp->set_unknown(resp->unknown() + 1);
        return;
      case Receipt::kAccepted:
        break;
    }
    if (buffer.push({std::move(group), g.weight_version()})) {
      count(counts.accepted, "accepted");
      resp->set_accepted(resp->accepted() + 1);
    } else {
      count(counts.equal_rewards, "equal_rewards");
      ledger.done(id);
      resp->set_accepted(resp->accepted() + 1);
    }
  }

  grpc::Status PushGroups(grpc::ServerContext* ctx, grpc::ServerReader<v1::Group>* reader,
                          v1::PushGroupsResponse* resp) override {
    if (auto st = authorize(*ctx); !st.ok()) return st;
    v1::Group g;
    int64_t read = 0;
    while (reader->Read(&g)) {
      std::lock_guard<std::mutex> lock(mutex);
      if (++read > options.max_groups_per_push) {
        // The groups received so far stand; the rest of this stream is refused, and their prompts go out again
        // when their leases expire (no sample lost, none trained twice).
        ++counts.refused_pushes;
        if (metrics) metrics->refused.Increment();
        spdlog::warn("coordinator: worker {} pushed more than cluster.max_groups_per_push {} groups in one stream; "
                     "refusing the rest", g.worker_id(), options.max_groups_per_push);
        cv.notify_all();
        return {grpc::StatusCode::RESOURCE_EXHAUSTED,
                fmt::format("PushGroups: more than cluster.max_groups_per_push {} groups in one stream",
                            options.max_groups_per_push)};
      }
      if (!g.worker_id().empty()) workers[g.worker_id()].last_seen = Clock::now();
      receive(g, resp);
      if (metrics) metrics->buffered.Set(static_cast<double>(buffer.size()));
    }
    cv.notify_all();
    return grpc::Status::OK;
  }

  grpc::Status WatchWeights(grpc::ServerContext* ctx, const v1::WatchWeightsRequest* req,
                            grpc::ServerWriter<v1::WeightChunk>* writer) override {
    if (auto st = authorize(*ctx); !st.ok()) return st;
    std::shared_ptr<const WeightVersion> v;
    {
      std::unique_lock<std::mutex> lock(mutex);
      const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(std::clamp(req->wait_seconds(), 0.0, 60.0)));
      cv.wait_until(lock, until, [&] {
        return finished || ctx->IsCancelled() || (latest && latest->version > req->have_version());
      });
      if (!latest || latest->version <= req->have_version()) return grpc::Status::OK;
      v = latest;
    }
    int64_t sent = 0;
    const size_t chunk = static_cast<size_t>(std::max<int64_t>(options.chunk_bytes, 1));
    for (size_t i = 0; i < v->tensors.size(); ++i) {
      const WeightTensor& t = v->tensors[i];
      size_t offset = 0;
      do {
        const size_t n = std::min(chunk, t.bytes.size() - offset);
        v1::WeightChunk c;
        c.set_version(v->version);
        c.set_name(t.name);
        c.set_dtype(t.dtype);
        for (int64_t d : t.shape) c.add_shape(d);
        c.set_tensor_bytes(t.bytes.size());
        c.set_offset(offset);
        c.set_data(t.bytes.data() + offset, n);
        c.set_crc32(static_cast<uint32_t>(::crc32(::crc32(0L, Z_NULL, 0),
                                                  reinterpret_cast<const Bytef*>(t.bytes.data() + offset),
                                                  static_cast<uInt>(n))));
        c.set_version_checksum(v->checksum);
        offset += n;
        c.set_last(i + 1 == v->tensors.size() && offset == t.bytes.size());
        if (!writer->Write(c)) return {grpc::StatusCode::CANCELLED, "WatchWeights: the worker went away"};
        sent += static_cast<int64_t>(n);
      } while (offset < t.bytes.size());
    }
    std::lock_guard<std::mutex> lock(mutex);
    counts.weight_bytes_sent += sent;
    if (metrics) metrics->weight_bytes.Increment(static_cast<double>(sent));
    return grpc::Status::OK;
  }

  std::string status_line() {
    std::string who;
    for (const auto& [name, w] : workers) {
      who += fmt::format("{}{} ({:.0f} s ago)", who.empty() ? "" : ", ", name,
                         std::chrono::duration<double>(Clock::now() - w.last_seen).count());
    }
    return fmt::format("{} groups buffered, {} prompts in flight, workers: {}", buffer.size(), ledger.in_flight(),
                       who.empty() ? "none yet" : who);
  }

  CoordinatorOptions options;
  std::vector<dataset::Row> rows;
  std::mutex mutex;
  std::condition_variable cv;
  PromptLedger ledger;
  TrajectoryBuffer buffer;
  Clock::time_point started;
  std::shared_ptr<const WeightVersion> latest;
  std::map<int64_t, uint64_t> checksums;  ///< recent versions' checksums
  std::map<std::string, WorkerSeen> workers;
  bool finished = false;
  CoordinatorCounts counts;
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<grpc::Server> server;
  std::string host;
  int port = 0;
  std::once_flag stopped;
};

Coordinator::Coordinator(CoordinatorOptions options, std::vector<dataset::Row> rows, DataOrder order)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(rows), std::move(order))) {
  const auto& o = impl_->options;
  SEER_CHECK(!impl_->rows.empty(), "coordinator: no training rows");
  impl_->host = o.address.substr(0, o.address.rfind(':'));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(o.address, server_credentials(o.tls, o.address, !o.auth_token.empty(), "coordinator"),
                           &impl_->port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<int64_t>(o.max_message_bytes, INT32_MAX)));
  builder.SetMaxSendMessageSize(static_cast<int>(std::min<int64_t>(o.max_message_bytes, INT32_MAX)));
  builder.RegisterService(impl_.get());
  impl_->server = builder.BuildAndStart();
  SEER_CHECK(impl_->server != nullptr && impl_->port > 0,
             "coordinator cannot listen on '{}' (address in use, or not host:port?)", o.address);
}

Coordinator::~Coordinator() { shutdown(2.0); }

int Coordinator::port() const { return impl_->port; }

std::string Coordinator::address() const { return impl_->host + ":" + std::to_string(impl_->port); }

void Coordinator::publish(WeightVersion v) {
  auto shared = std::make_shared<const WeightVersion>(std::move(v));
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->checksums[shared->version] = shared->checksum;
  while (impl_->checksums.size() > static_cast<size_t>(impl_->options.max_staleness + 4)) {
    impl_->checksums.erase(impl_->checksums.begin());
  }
  impl_->latest = std::move(shared);
  impl_->cv.notify_all();
}

std::optional<std::vector<Group>> Coordinator::take(int64_t count, int64_t version, const std::atomic<bool>& stop,
                                                     double timeout_seconds) {
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(timeout_seconds < 0 ? 1e9 : timeout_seconds));
  std::unique_lock<std::mutex> lock(impl_->mutex);
  for (;;) {
    std::vector<std::string> stale;
    auto groups = impl_->buffer.take(count, version, &stale);
    for (const auto& id : stale) {
      impl_->count(impl_->counts.stale, "stale");
      impl_->ledger.release(id);
    }
    if (impl_->metrics) impl_->metrics->buffered.Set(static_cast<double>(impl_->buffer.size()));
    if (groups) return groups;
    if (stop.load() || Clock::now() >= until) return std::nullopt;
    impl_->cv.wait_until(lock, std::min(until, Clock::now() + std::chrono::milliseconds(200)));
  }
}

std::string Coordinator::status() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->status_line();
}

void Coordinator::done(const std::vector<Group>& groups) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (const auto& g : groups) impl_->ledger.done(g.prompt_id);
}

void Coordinator::finish() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->finished = true;
  impl_->cv.notify_all();
}

void Coordinator::wait_for_workers_to_leave(double seconds) {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  const std::chrono::duration<double> around(std::max(2.0 * impl_->options.lease_seconds, 30.0));
  impl_->cv.wait_until(lock, until, [&] {
    for (const auto& [name, w] : impl_->workers) {
      const bool recent = Clock::now() - w.last_seen < around;
      if (recent && !w.told_finished) return false;
    }
    return true;
  });
}

CoordinatorCounts Coordinator::counts() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  CoordinatorCounts c = impl_->counts;
  c.leased = impl_->ledger.counts().leased;
  c.reissued = impl_->ledger.counts().reissued;
  return c;
}

std::pair<int64_t, int64_t> Coordinator::resume_position() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->ledger.resume_position();
}

std::vector<std::string> Coordinator::done_after_resume_position() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->ledger.done_after_resume_position();
}

void Coordinator::shutdown(double grace_seconds) {
  std::call_once(impl_->stopped, [&] {
    finish();
    impl_->server->Shutdown(std::chrono::system_clock::now() +
                            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                std::chrono::duration<double>(grace_seconds)));
    impl_->server->Wait();
  });
}

}  // namespace seer::trainer
