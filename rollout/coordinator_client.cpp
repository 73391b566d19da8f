#include "rollout/coordinator_client.h"

#include <chrono>

#include <grpcpp/grpcpp.h>
#include <zlib.h>

#include "core/check.h"
#include "core/grpc_code.h"
#include "core/grpc_tls.h"
#include "proto/coordinator.grpc.pb.h"

namespace seer::rollout {
namespace {

namespace v1 = coordinator::v1;

[[noreturn]] void fail(const std::string& address, const char* rpc, const grpc::Status& st) {
  const auto code = st.error_code();
  const std::string where = fmt::format("{}:{}", __FILE__, __LINE__);
  // CANCELLED: the server shut down with the call in flight.
  if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
      code == grpc::StatusCode::CANCELLED) {
    throw Unavailable(fmt::format("coordinator {} {}: {} ({})", address, rpc,
                                  code == grpc::StatusCode::DEADLINE_EXCEEDED ? "timed out" : "unavailable",
                                  st.error_message()),
                      where);
  }
  throw Error(fmt::format("coordinator {} refused {}: gRPC status {}: {}", address, rpc,
                          grpc_code_name(static_cast<int>(code)), st.error_message()),
              where);
}

}  // namespace

struct CoordinatorClient::Impl {
  CoordinatorClientOptions options;
  std::unique_ptr<v1::Coordinator::Stub> stub;

  void prepare(grpc::ClientContext& ctx, double seconds) const {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                                            std::chrono::duration<double>(seconds)));
    if (!options.auth_token.empty()) ctx.AddMetadata("authorization", "Bearer " + options.auth_token);
  }
};

CoordinatorClient::CoordinatorClient(CoordinatorClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(std::min<int64_t>(impl_->options.max_message_bytes, INT32_MAX)));
  args.SetMaxSendMessageSize(static_cast<int>(std::min<int64_t>(impl_->options.max_message_bytes, INT32_MAX)));
  impl_->stub = v1::Coordinator::NewStub(
      make_channel(impl_->options.address, impl_->options.tls, args));
}

CoordinatorClient::~CoordinatorClient() = default;

PromptLease CoordinatorClient::get_prompts(const std::string& worker_id, int64_t max_prompts, int64_t weight_version) {
  grpc::ClientContext ctx;
  impl_->prepare(ctx, impl_->options.timeout_seconds);
  v1::GetPromptsRequest req;
  req.set_worker_id(worker_id);
  req.set_max_prompts(static_cast<uint32_t>(max_prompts));
  req.set_weight_version(weight_version);
  req.set_image_inputs(impl_->options.image_inputs);
  v1::GetPromptsResponse resp;
  const grpc::Status st = impl_->stub->GetPrompts(&ctx, req, &resp);
  if (!st.ok()) fail(impl_->options.address, "GetPrompts", st);
  PromptLease out;
  out.weight_version = resp.weight_version();
  out.reload_weights = resp.reload_weights();
  out.finished = resp.finished();
  out.retry_after_seconds = resp.retry_after_seconds();
  for (const auto& p : resp.prompts()) {
    out.prompts.push_back({p.prompt_id(), p.row_id(), {p.images().begin(), p.images().end()}, p.question(), p.gold(),
                           p.answer_type(),
                           std::vector<std::string>(p.options().begin(), p.options().end())});
  }
  return out;
}

PushAck CoordinatorClient::push(const std::vector<v1::Group>& groups) {
  grpc::ClientContext ctx;
  impl_->prepare(ctx, impl_->options.timeout_seconds);
  v1::PushGroupsResponse resp;
  auto writer = impl_->stub->PushGroups(&ctx, &resp);
  for (const auto& g : groups) {
    if (!writer->Write(g)) break;  // the server ended the call: Finish() says why
  }
  writer->WritesDone();
  const grpc::Status st = writer->Finish();
  if (!st.ok()) fail(impl_->options.address, "PushGroups", st);
  return {resp.accepted(), resp.duplicate(), resp.stale(), resp.unknown()};
}

std::optional<trainer::WeightVersion> CoordinatorClient::fetch_weights(const std::string& worker_id,
                                                                       int64_t have_version, double wait_seconds) {
  grpc::ClientContext ctx;
  // The wait plus time to move the bytes.
  impl_->prepare(ctx, wait_seconds + impl_->options.timeout_seconds * 4);
  v1::WatchWeightsRequest req;
  req.set_worker_id(worker_id);
  req.set_have_version(have_version);
  req.set_wait_seconds(wait_seconds);
  auto reader = impl_->stub->WatchWeights(&ctx, req);
  std::optional<trainer::WeightVersion> out;
  uint64_t announced = 0;
  bool complete = false;
  v1::WeightChunk c;
  while (reader->Read(&c)) {
    if (!out) {
      out.emplace();
      out->version = c.version();
      announced = c.version_checksum();
    }
    const uint32_t crc = static_cast<uint32_t>(
        ::crc32(::crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(c.data().data()), static_cast<uInt>(c.data().size())));
    SEER_CHECK(crc == c.crc32(), "weights v{} from {}: chunk of '{}' at offset {} is corrupt (CRC-32 {:08x}, sent {:08x})",
               c.version(), impl_->options.address, c.name(), c.offset(), crc, c.crc32());
    SEER_CHECK(c.version() == out->version, "weights from {}: chunks of versions {} and {} mixed", impl_->options.address,
               out->version, c.version());
    if (c.offset() == 0) {
      trainer::WeightTensor t;
      t.name = c.name();
      t.dtype = c.dtype();
      t.shape.assign(c.shape().begin(), c.shape().end());
      t.bytes.reserve(c.tensor_bytes());
      out->tensors.push_back(std::move(t));
    }
    SEER_CHECK(!out->tensors.empty() && out->tensors.back().name == c.name() &&
                   out->tensors.back().bytes.size() == c.offset(),
               "weights v{} from {}: chunk of '{}' at offset {} out of order", c.version(), impl_->options.address,
               c.name(), c.offset());
    out->tensors.back().bytes += c.data();
    complete = c.last();
  }
  const grpc::Status st = reader->Finish();
  if (!st.ok()) fail(impl_->options.address, "WatchWeights", st);
  if (!out) return std::nullopt;
  SEER_CHECK(complete, "weights v{} from {}: the stream ended before the last chunk", out->version, impl_->options.address);
  out->checksum = trainer::weights_checksum(out->tensors);
  SEER_CHECK(out->checksum == announced, "weights v{} from {}: checksum {:08x} of the received tensors differs from "
             "the published {:08x}", out->version, impl_->options.address, out->checksum, announced);
  return out;
}

}  // namespace seer::rollout
