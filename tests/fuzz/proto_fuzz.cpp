// libFuzzer target for the protobuf messages seer's gRPC services accept, through the code that handles them
// after gRPC has parsed the bytes (the services are thin adapters around these). The first byte picks one:
//   0: reward Score: a ScoreRequest; every sample converted (reward/proto_convert.h) and scored with a 50 ms
//      budget, the result converted back;
//   1: coordinator PushGroups: one streamed Group, converted and validated (trainer/group_proto.h), then its id
//      through the prompt ledger as the coordinator does (receive, release by its worker, done);
//   2: coordinator GetPrompts: a GetPromptsRequest; its worker id and count through the ledger's lease.
// Contract: bad input is refused with a seer::Error (group_from_proto) or handled; never a crash, a sanitizer
// report, another exception, or a ledger that breaks its own bounds.
// Build and run: scripts/fuzz.sh proto [SECONDS]
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/check.h"
#include "proto/coordinator.pb.h"
#include "proto/reward.pb.h"
#include "reward/proto_convert.h"
#include "reward/scorer.h"
#include "trainer/data_order.h"
#include "trainer/group_proto.h"
#include "trainer/prompt_ledger.h"

namespace {

/// A ledger as a running coordinator has it: 16 rows, 6 prompts leased to "w-1", one received.
seer::trainer::PromptLedger ledger() {
  seer::trainer::PromptLedger l(seer::trainer::DataOrder(16, 1, false), 30.0, 8);
  const auto leased = l.lease("w-1", 6, 0.0);
  if (leased.size() != 6) std::abort();
  (void)l.receive(leased[0].prompt_id);
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const void* body = data + 1;
  const int n = static_cast<int>(size - 1);
  switch (data[0] % 3) {
    case 0: {
      seer::reward::v1::ScoreRequest req;
      if (!req.ParseFromArray(body, n)) return 0;  // gRPC refuses what does not parse
      seer::reward::ScoringOptions o;
      o.budget_seconds = 0.05;
      for (const auto& p : req.samples()) {
        const seer::reward::Score s = seer::reward::score_sample(seer::reward::from_proto(p), o);
        seer::reward::v1::Result r;
        seer::reward::to_proto(s, &r);
        if (s.status != seer::reward::Status::kUnscorable && !(s.total >= -1e9 && s.total <= 1e9)) std::abort();
      }
      break;
    }
    case 1: {
      seer::coordinator::v1::Group g;
      if (!g.ParseFromArray(body, n)) return 0;
      auto l = ledger();
      try {
        const seer::trainer::Group group = seer::trainer::group_from_proto(g);
        for (const auto& c : group.completions) {
          if (c.tokens.empty() || (!c.rollout_logprobs.empty() && c.rollout_logprobs.size() != c.tokens.size())) std::abort();
        }
      } catch (const seer::Error&) {
        // refused, naming the group: the contract
      }
      (void)l.receive(g.group_id());
      l.release(g.group_id(), g.worker_id());
      (void)l.row_of(g.group_id());
      (void)l.holder(g.group_id());
      l.done(g.group_id());
      l.skip({g.group_id(), g.worker_id()});
      if (l.in_flight() < 0 || l.in_flight() > 8) std::abort();
      break;
    }
    default: {
      seer::coordinator::v1::GetPromptsRequest req;
      if (!req.ParseFromArray(body, n)) return 0;
      auto l = ledger();
      const auto leased = l.lease(req.worker_id(), std::min<int64_t>(req.max_prompts(), 1 << 20), 1e9 * (req.weight_version() % 3));
      if (static_cast<int64_t>(leased.size()) > 8 || l.in_flight() > 8) std::abort();
      for (const auto& p : leased) {
        if (p.row < 0 || p.row >= 16) std::abort();
      }
      break;
    }
  }
  return 0;
}
