// Which prompts are where, for the coordinator: dataset slots are leased to rollout workers in the
// dataset's deterministic order (trainer/data_order.h); a lease not answered before its deadline is handed
// out again (first, before new slots); a group is received at most once per prompt; a group that will not
// be trained on (stale) sends its prompt back to be leased again; a prompt is done when its group was
// trained on or dropped on purpose (dynamic sampling, unusable prompt). Plain C++, no gRPC; not thread-safe
// (the coordinator holds its lock around every call).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "trainer/data_order.h"

namespace seer::trainer {

struct LeasedPrompt {
  std::string prompt_id;  ///< "<epoch>:<position>": the slot in the dataset order
  int64_t row = 0;        ///< index into the dataset rows
  bool reissued = false;  ///< handed out before (its lease expired, or its group was not trainable)
};

enum class Receipt { kAccepted, kDuplicate, kUnknown };

struct LedgerCounts {
  int64_t leased = 0;      ///< leases handed out (re-leases included)
  int64_t reissued = 0;    ///< leases that expired or were released and went out again
  int64_t received = 0, duplicate = 0, unknown = 0, released = 0, done = 0;
};

class PromptLedger {
 public:
  /// `order` is where new slots come from (its epoch/cursor = the first slot this ledger hands out).
  /// At most `max_in_flight` prompts are leased or received-but-not-done at once (flow control: with
  /// max_staleness S and P prompts per step, P x (S + 1) keeps every group trainable).
  PromptLedger(DataOrder order, double lease_seconds, int64_t max_in_flight);

  /// Up to `n` prompts for `worker` at time `now` (seconds, any monotonic origin): expired and released
  /// prompts first, then new slots, while the in-flight cap allows.
  std::vector<LeasedPrompt> lease(const std::string& worker, int64_t n, double now);
  /// A group for `prompt_id` arrived. kDuplicate when one was already received or the prompt is done;
  /// kUnknown when it was never leased by this ledger. kAccepted also for a late group whose lease had
  /// expired, as long as no other group for it came first (the re-lease is then answered as duplicate).
  Receipt receive(const std::string& prompt_id);
  /// The prompt's group will not be trained on (stale): the prompt goes out again. With `worker` set, only
  /// when that worker still holds the lease (a late stale group does not disturb a newer lease).
  void release(const std::string& prompt_id, const std::string& worker = "");
  /// The prompt's group was trained on or dropped on purpose: finished for good.
  void done(const std::string& prompt_id);
  /// Leased, released or received prompts not yet done.
  int64_t in_flight() const { return static_cast<int64_t>(slots_.size()); }
  void set_max_in_flight(int64_t n) { max_in_flight_ = n; }
  /// The data position (epoch, cursor) of the oldest prompt not done: what a checkpoint stores, so a resumed
  /// run hands out again everything not yet trained on (slots after it that were done are handed out again).
  std::pair<int64_t, int64_t> resume_position() const;
  /// Prompts after resume_position() that are already done (groups are trained in arrival order, not data
  /// order): a checkpoint stores them with the position, and the resumed run skips them (skip()), so no prompt
  /// is trained on twice across a resume. At most max_in_flight of them. Sorted by data position.
  std::vector<std::string> done_after_resume_position() const;
  /// Prompt ids this ledger must not hand out (done before the checkpoint it resumes from); malformed ids are
  /// ignored. A late group for one of them is answered as duplicate.
  void skip(const std::vector<std::string>& prompt_ids);
  /// The dataset row of `prompt_id` while it is in flight (leased, released or received); -1 otherwise.
  int64_t row_of(const std::string& prompt_id) const;
  /// The worker holding `prompt_id`'s lease ("" when not leased).
  std::string holder(const std::string& prompt_id) const;
  const LedgerCounts& counts() const { return counts_; }

 private:
  enum class State { kLeased, kReleased, kReceived };
  struct Slot {
    int64_t row = 0, epoch = 0, position = 0;
    State state = State::kLeased;
    std::string worker;
    double deadline = 0;
  };
  DataOrder order_;
  double lease_seconds_;
  int64_t max_in_flight_;
  std::map<std::pair<int64_t, int64_t>, Slot> slots_;  ///< (epoch, position) -> slot, not yet done
  std::unordered_set<std::string> done_;
  std::set<std::pair<int64_t, int64_t>> skip_;  ///< slots done before the resume, not yet reached by order_
  LedgerCounts counts_;
};

/// "<epoch>:<position>".
std::string prompt_id_of(int64_t epoch, int64_t position);

}  // namespace seer::trainer
