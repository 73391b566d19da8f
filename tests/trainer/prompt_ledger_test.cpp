// The coordinator's bookkeeping without gRPC: prompts leave in the data order, expired and released leases go
// out again before new prompts, each prompt's group is received once, the in-flight cap holds, and the
// checkpoint position is the oldest prompt not yet trained on.
#include <gtest/gtest.h>

#include "trainer/data_order.h"
#include "trainer/prompt_ledger.h"

namespace seer::trainer {
namespace {

TEST(PromptLedger, LeasesInDataOrderUnderTheInFlightCap) {
  PromptLedger ledger(DataOrder(5, 7, true), 10.0, 4);
  DataOrder expected(5, 7, true);
  const auto a = ledger.lease("w1", 3, 0.0);
  const auto b = ledger.lease("w2", 3, 0.0);  // only one more fits under the cap of 4
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 1u);
  const auto rows = expected.next(4);
  EXPECT_EQ(a[0].prompt_id, "0:0");
  EXPECT_EQ(a[2].prompt_id, "0:2");
  EXPECT_EQ(b[0].prompt_id, "0:3");
  EXPECT_EQ(a[0].row, rows[0]);
  EXPECT_EQ(a[1].row, rows[1]);
  EXPECT_EQ(b[0].row, rows[3]);
  EXPECT_EQ(ledger.in_flight(), 4);
  ledger.receive("0:0");
  ledger.done("0:0");
  const auto c = ledger.lease("w2", 3, 1.0);  // one slot freed; epoch 1 starts after position 4
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].prompt_id, "0:4");
  ledger.receive("0:1");
  ledger.done("0:1");
  const auto d = ledger.lease("w2", 1, 1.0);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].prompt_id, "1:0");
}

TEST(PromptLedger, ExpiredLeasesGoOutAgainFirstAndOnlyOneGroupCounts) {
  PromptLedger ledger(DataOrder(100, 1, false), 10.0, 50);
  const auto dead = ledger.lease("dead", 2, 0.0);  // this worker will never answer
  const auto live = ledger.lease("live", 1, 5.0);  // before the deadline: a new prompt
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].prompt_id, "0:2");
  const auto again = ledger.lease("live", 3, 10.5);  // after it: the expired two first, then a new one
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].prompt_id, dead[0].prompt_id);
  EXPECT_EQ(again[1].prompt_id, dead[1].prompt_id);
  EXPECT_EQ(again[2].prompt_id, "0:3");
  EXPECT_EQ(ledger.holder(dead[0].prompt_id), "live");
  EXPECT_EQ(ledger.counts().reissued, 2);
  // The re-leased worker answers; the dead one's late duplicate is not counted twice.
  EXPECT_EQ(ledger.receive(dead[0].prompt_id), Receipt::kAccepted);
  EXPECT_EQ(ledger.receive(dead[0].prompt_id), Receipt::kDuplicate);
  ledger.done(dead[0].prompt_id);
  EXPECT_EQ(ledger.receive(dead[0].prompt_id), Receipt::kDuplicate);
  EXPECT_EQ(ledger.receive("7:7"), Receipt::kUnknown);
  EXPECT_EQ(ledger.receive("not-an-id"), Receipt::kUnknown);
  EXPECT_EQ(ledger.receive("0:-1"), Receipt::kUnknown);
}

TEST(PromptLedger, ReleaseOnlyByTheHolderAndResumePositionIsTheOldestOpenPrompt) {
  PromptLedger ledger(DataOrder(100, 1, false), 10.0, 50);
  ledger.lease("a", 3, 0.0);
  ledger.release("0:1", "b");  // b does not hold it: nothing happens
  EXPECT_EQ(ledger.holder("0:1"), "a");
  ledger.release("0:1", "a");
  EXPECT_EQ(ledger.holder("0:1"), "");
  const auto next = ledger.lease("b", 1, 1.0);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].prompt_id, "0:1");
  EXPECT_EQ(ledger.resume_position(), (std::pair<int64_t, int64_t>(0, 0)));
  for (const char* id : {"0:0", "0:2"}) {
    ledger.receive(id);
    ledger.done(id);
  }
  EXPECT_EQ(ledger.resume_position(), (std::pair<int64_t, int64_t>(0, 1)));
  ledger.receive("0:1");
  ledger.done("0:1");
  EXPECT_EQ(ledger.resume_position(), (std::pair<int64_t, int64_t>(0, 3)));
}

TEST(PromptLedger, AResumedLedgerSkipsPromptsTrainedOutOfOrderBeforeTheCheckpoint) {
  PromptLedger before(DataOrder(100, 1, false), 10.0, 50);
  ASSERT_EQ(before.lease("w1", 6, 0.0).size(), 6u);  // 0:0 .. 0:5
  for (const char* id : {"0:1", "0:3", "0:5"}) {  // groups trained in arrival order, not data order
    before.receive(id);
    before.done(id);
  }
  const auto position = before.resume_position();
  EXPECT_EQ(position, (std::pair<int64_t, int64_t>{0, 0}));
  const std::vector<std::string> done = before.done_after_resume_position();
  EXPECT_EQ(done, (std::vector<std::string>{"0:1", "0:3", "0:5"}));

  // The checkpoint's (epoch, cursor) and done list rebuild a ledger that hands out only the untrained prompts.
  PromptLedger after(DataOrder(100, 1, false, position.first, position.second), 10.0, 50);
  after.skip(done);
  std::vector<std::string> ids;
  for (const auto& p : after.lease("w2", 5, 0.0)) ids.push_back(p.prompt_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"0:0", "0:2", "0:4", "0:6", "0:7"}));
  EXPECT_EQ(after.receive("0:3"), Receipt::kDuplicate);  // a late group for a skipped prompt is not trained on
  // A checkpoint of the resumed ledger still lists the done prompts after its position.
  after.receive("0:2");
  after.done("0:2");
  EXPECT_EQ(after.resume_position(), (std::pair<int64_t, int64_t>{0, 0}));
  EXPECT_EQ(after.done_after_resume_position(), (std::vector<std::string>{"0:1", "0:2", "0:3", "0:5"}));
}

TEST(PromptLedger, SkippedPromptsNotYetReachedStayInTheCheckpointList) {
  PromptLedger ledger(DataOrder(100, 1, false, 0, 2), 10.0, 50);
  ledger.skip({"0:4", "0:9", "bad-id"});
  ASSERT_EQ(ledger.lease("w1", 3, 0.0).size(), 3u);  // 0:2 0:3 0:5 (0:4 skipped)
  EXPECT_EQ(ledger.done_after_resume_position(), (std::vector<std::string>{"0:4", "0:9"}));
}

}  // namespace
}  // namespace seer::trainer
