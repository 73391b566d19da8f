// The coordinator over real gRPC on 127.0.0.1, driven by the rollout worker's client: the bearer token is
// enforced and refusals counted; weights stream in many chunks and load bit-exactly into another model
// (checksum); a worker with the newest version gets nothing; pushed groups are buffered and taken by the
// learner; duplicates, stale groups and groups from other weights are acknowledged but not trained on.
#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/check.h"
#include "model/presets.h"
#include "model/vlm.h"
#include "proto/coordinator.pb.h"
#include "rollout/coordinator_client.h"
#include "trainer/batch_exchange.h"
#include "trainer/communicator.h"
#include "trainer/coordinator.h"
#include "trainer/group_proto.h"
#include "trainer/weight_store.h"

namespace seer {
namespace {

namespace v1 = coordinator::v1;

std::vector<dataset::Row> rows(int n) {
  std::vector<dataset::Row> out;
  for (int i = 0; i < n; ++i) {
    dataset::Row r;
    r.id = "row-" + std::to_string(i);
    r.line = i + 1;
    r.question = "What is " + std::to_string(i) + " + 1?";
    r.answer = std::to_string(i + 1);
    r.answer_type = "numeric";
    out.push_back(r);
  }
  return out;
}

trainer::CoordinatorOptions options(const std::string& token) {
  trainer::CoordinatorOptions o;
  o.auth_token = token;
  o.lease_seconds = 60;
  o.max_staleness = 1;
  o.prompts_per_step = 2;
  o.chunk_bytes = 4096;
  return o;
}

/// Publishes an (empty) weight version with the given checksum: what pushed groups are checked against.
void publish(trainer::Coordinator& coord, int64_t version, uint64_t checksum) {
  trainer::WeightVersion w;
  w.version = version;
  w.checksum = checksum;
  coord.publish(w);
}

rollout::CoordinatorClient client(const trainer::Coordinator& c, const std::string& token,
                                  const std::string& image_inputs = "") {
  rollout::CoordinatorClientOptions o;
  o.image_inputs = image_inputs;
  o.address = c.address();
  o.auth_token = token;
  o.timeout_seconds = 10;
  return rollout::CoordinatorClient(o);
}

v1::Group group(const std::string& id, int64_t version, uint64_t checksum, std::vector<double> rewards) {
  v1::Group g;
  g.set_group_id(id);
  g.set_worker_id("w1");
  g.set_weight_version(version);
  g.set_weight_checksum(checksum);
  for (int t : {1, 2, 3}) g.add_prompt_ids(t);
  uint32_t k = 0;
  for (double r : rewards) {
    auto* t = g.add_trajectories();
    t->set_sample_index(k++);
    t->add_response_ids(5);
    t->add_response_ids(6);
    t->add_logprobs(-0.5f);
    t->add_logprobs(-0.25f);
    t->set_scored(true);
    t->set_reward(r);
    t->set_status("ok");
  }
  return g;
}

TEST(CoordinatorService, RefusesAndCountsCallsWithoutTheToken) {
  trainer::Coordinator coord(options("s3cret"), rows(4), trainer::DataOrder(4, 1, false));
  auto anonymous = client(coord, "");
  auto wrong = client(coord, "guess");
  try {
    anonymous.get_prompts("w1", 1, -1);
    FAIL() << "GetPrompts without a token was answered";
  } catch (const Unavailable&) {
    FAIL() << "a refusal must not look like an outage (workers would retry forever)";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bearer token"), std::string::npos) << e.what();
  }
  EXPECT_THROW(wrong.push({group("0:0", 0, 0, {1, 0})}), Error);
  EXPECT_THROW(anonymous.fetch_weights("w1", -1, 0), Error);
  const auto n = coord.counts();
  EXPECT_EQ(n.unauthenticated, 3);
  EXPECT_EQ(n.accepted, 0);
  EXPECT_NE(coord.status().find("groups buffered"), std::string::npos);
}

TEST(CoordinatorService, AWorkerThatPreprocessesImagesDifferentlyIsRefusedAtItsFirstCall) {
  auto o = options("t");
  o.image_inputs = "Qwen2VLImageProcessor min_pixels=3136 max_pixels=1003520";
  trainer::Coordinator coord(o, rows(4), trainer::DataOrder(4, 1, false));
  publish(coord, 0, 7);
  auto other = client(coord, "t", "Qwen2VLImageProcessor min_pixels=3136 max_pixels=12544");
  try {
    other.get_prompts("w1", 1, 0);
    FAIL() << "a worker with other image inputs was handed prompts";
  } catch (const Unavailable&) {
    FAIL() << "a refusal must not look like an outage (workers would retry forever)";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("max_pixels=12544"), std::string::npos) << what;    // the worker's
    EXPECT_NE(what.find("max_pixels=1003520"), std::string::npos) << what;  // the learner's
  }
  EXPECT_EQ(client(coord, "t", o.image_inputs).get_prompts("w2", 1, 0).prompts.size(), 1u);
  EXPECT_EQ(client(coord, "t", "").get_prompts("w3", 1, 0).prompts.size(), 1u);  // an older worker: not checked
  EXPECT_EQ(coord.counts().leased, 2);
}

TEST(CoordinatorService, ARowsImagesTravelInOrderAndAGroupWithOtherImagesIsNotTrainedOn) {
  auto data = rows(4);
  data[0].images = {"/data/b.png", "/data/a.png"};
  data[1].images = {"/data/c.png"};
  trainer::Coordinator coord(options(""), data, trainer::DataOrder(4, 1, false));
  publish(coord, 0, 0xabc);
  auto c = client(coord, "");
  const auto lease = c.get_prompts("w1", 2, 0);
  ASSERT_EQ(lease.prompts.size(), 2u);
  EXPECT_EQ(lease.prompts[0].images, data[0].images);
  EXPECT_EQ(lease.prompts[1].images, data[1].images);
  auto with_images = [](v1::Group g, std::vector<std::string> images) {
    for (const auto& i : images) g.add_images(i);
    return g;
  };
  // The learner reads the images from the group's paths: another order, another file or none is refused and
  // the prompt goes out again; the row's own paths are trained on.
  for (const auto& wrong : std::vector<std::vector<std::string>>{{"/data/a.png", "/data/b.png"}, {"/etc/passwd"}, {}}) {
    EXPECT_EQ(c.push({with_images(group("0:0", 0, 0xabc, {1, 0}), wrong)}).accepted, 0);
  }
  EXPECT_EQ(c.push({with_images(group("0:1", 0, 0xabc, {1, 0}), data[1].images)}).accepted, 1);
  EXPECT_EQ(c.get_prompts("w2", 1, 0).prompts.at(0).prompt_id, "0:0");
  EXPECT_EQ(c.push({with_images(group("0:0", 0, 0xabc, {1, 0}), data[0].images)}).accepted, 1);
  std::atomic<bool> stop{false};
  auto taken = coord.take(2, 0, stop, 1.0);
  ASSERT_TRUE(taken.has_value());
  ASSERT_EQ(taken->size(), 2u);
  EXPECT_EQ((*taken)[0].images, data[1].images);
  EXPECT_EQ((*taken)[1].images, data[0].images);
}

TEST(CoordinatorService, WeightsStreamInChunksAndLoadBitExactly) {
  trainer::Coordinator coord(options("t"), rows(4), trainer::DataOrder(4, 1, false));
  auto learner = model::Vlm::create(model::preset_config("tiny"), 3);
  auto worker = model::Vlm::create(model::preset_config("tiny"), 4);  // different weights
  std::map<std::string, at::Tensor> trainable;
  for (const auto& [name, p] : learner->named_parameters()) {
    if (p.requires_grad()) trainable[name] = p;
  }
  const auto published = trainer::snapshot_weights(trainable, 0);
  ASSERT_GT(published.bytes(), 10 * 4096) << "the test needs many chunks";
  coord.publish(published);
  auto c = client(coord, "t");
  const auto lease = c.get_prompts("w1", 2, -1);
  EXPECT_TRUE(lease.reload_weights);
  EXPECT_TRUE(lease.prompts.empty());
  const auto got = c.fetch_weights("w1", -1, 0);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->version, 0);
  EXPECT_EQ(got->checksum, published.checksum);
  const auto params = worker->named_parameters();
  trainer::load_weights(*got, params);
  std::vector<std::string> names;
  for (const auto& t : published.tensors) names.push_back(t.name);
  EXPECT_EQ(trainer::parameters_checksum(params, names), published.checksum);
  for (const auto& [name, p] : trainable) EXPECT_TRUE(at::equal(p, params.at(name))) << name;
  EXPECT_FALSE(c.fetch_weights("w1", 0, 0).has_value());  // already has the newest
  EXPECT_EQ(coord.counts().weight_bytes_sent, published.bytes());
  // A corrupted copy is refused by name before anything changes.
  auto bad = published;
  bad.tensors.front().shape.push_back(1);
  EXPECT_THROW(trainer::load_weights(bad, params), Error);
}

TEST(CoordinatorService, GroupsAreBufferedOnceAndStaleOrForeignOnesAreNot) {
  trainer::Coordinator coord(options(""), rows(8), trainer::DataOrder(8, 1, false));
  publish(coord, 0, 0xabc);
  auto c = client(coord, "");
  const auto lease = c.get_prompts("w1", 3, 0);
  ASSERT_EQ(lease.prompts.size(), 3u);  // cap: prompts_per_step x (max_staleness + 1) = 4
  EXPECT_EQ(lease.prompts[0].prompt_id, "0:0");
  EXPECT_EQ(lease.prompts[1].gold, "2");
  auto ack = c.push({group("0:0", 0, 0xabc, {1, 0}), group("0:1", 0, 0xabc, {0.5, 0})});
  EXPECT_EQ(ack.accepted, 2);
  ack = c.push({group("0:0", 0, 0xabc, {1, 0})});  // a retried push
  EXPECT_EQ(ack.duplicate, 1);
  ack = c.push({group("0:2", 0, 0xdead, {1, 0})});  // other weights than version 0's
  EXPECT_EQ(ack.accepted, 0);
  std::atomic<bool> stop{false};
  auto taken = coord.take(2, 0, stop, 1.0);
  ASSERT_TRUE(taken.has_value());
  ASSERT_EQ(taken->size(), 2u);
  EXPECT_EQ((*taken)[0].prompt_id, "0:0");
  ASSERT_EQ((*taken)[1].completions.size(), 2u);
  EXPECT_DOUBLE_EQ(*(*taken)[1].completions[0].reward, 0.5);
  EXPECT_EQ((*taken)[1].completions[0].rollout_logprobs, (std::vector<float>{-0.5f, -0.25f}));
  coord.done(*taken);
  EXPECT_FALSE(coord.take(1, 0, stop, 0.2).has_value());  // nothing else buffered
  // Two updates later a version-0 group is beyond max_staleness 1: acknowledged as stale, prompt re-leased.
  for (int64_t v : {1, 2}) {
    publish(coord, v, 0x100 + static_cast<uint64_t>(v));
  }
  EXPECT_TRUE(c.get_prompts("w1", 1, 0).reload_weights);
  ack = c.push({group("0:2", 0, 0xabc, {1, 0})});
  EXPECT_EQ(ack.stale, 1);
  const auto again = c.get_prompts("w2", 4, 2);
  ASSERT_FALSE(again.prompts.empty());
  EXPECT_EQ(again.prompts[0].prompt_id, "0:2");  // the mismatched and stale prompt goes out again first
  const auto n = coord.counts();
  EXPECT_EQ(n.accepted, 2);
  EXPECT_EQ(n.duplicate, 1);
  EXPECT_EQ(n.stale, 1);
  EXPECT_EQ(n.checksum_mismatch, 1);
  EXPECT_EQ(coord.resume_position(), (std::pair<int64_t, int64_t>(0, 2)));
  coord.finish();
  EXPECT_TRUE(c.get_prompts("w1", 1, 2).finished);
}

TEST(CoordinatorService, APushOverTheGroupLimitIsCutOffAndTheServiceGoesOn) {
  auto o = options("");
  o.max_groups_per_push = 2;
  trainer::Coordinator coord(o, rows(8), trainer::DataOrder(8, 1, false));
  publish(coord, 0, 0xabc);
  auto c = client(coord, "");
  ASSERT_EQ(c.get_prompts("w1", 4, 0).prompts.size(), 4u);
  try {
    c.push({group("0:0", 0, 0xabc, {1, 0}), group("0:1", 0, 0xabc, {0, 1}), group("0:2", 0, 0xabc, {1, 0})});
    ADD_FAILURE() << "3 groups in one push over a limit of 2 were taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cluster.max_groups_per_push 2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(coord.counts().refused_pushes, 1);
  EXPECT_EQ(coord.counts().accepted, 2);  // the groups before the limit stand
  // The service goes on: the refused group arrives in a later push, once.
  EXPECT_EQ(c.push({group("0:2", 0, 0xabc, {1, 0})}).accepted, 1);
  EXPECT_EQ(c.push({group("0:0", 0, 0xabc, {1, 0})}).duplicate, 1);
  coord.finish();
}

TEST(CoordinatorService, AnOversizedGroupIsRefusedAndTheServiceServesOtherClients) {
  auto o = options("");
  o.max_message_bytes = 1 << 20;
  trainer::Coordinator coord(o, rows(8), trainer::DataOrder(8, 1, false));
  publish(coord, 0, 0xabc);
  auto big_client = client(coord, "");
  auto other = client(coord, "");
  ASSERT_EQ(big_client.get_prompts("w1", 2, 0).prompts.size(), 2u);
  v1::Group big = group("0:0", 0, 0xabc, {1, 0});
  for (int i = 0; i < 1500000; ++i) big.add_prompt_ids(7);  // 1.5 MB of prompt ids (1 byte each), over 1 MiB
  try {
    big_client.push({big});
    ADD_FAILURE() << "a group over cluster.max_message_bytes was taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("RESOURCE_EXHAUSTED"), std::string::npos) << e.what();
  }
  EXPECT_EQ(coord.counts().accepted, 0);
  // Another client, and the same one, are served as before; the refused prompt's group still counts once.
  EXPECT_EQ(other.get_prompts("w2", 2, 0).prompts.size(), 2u);
  EXPECT_EQ(other.push({group("0:2", 0, 0xabc, {1, 0})}).accepted, 1);
  EXPECT_EQ(big_client.push({group("0:0", 0, 0xabc, {0, 1})}).accepted, 1);
  coord.finish();
}

TEST(BatchExchange, AStopRequestOnAnyRankWinsOverAReadyBatch) {
  trainer::Coordinator coord(options(""), rows(8), trainer::DataOrder(8, 1, false));
  publish(coord, 0, 0xabc);
  auto c = client(coord, "");
  ASSERT_EQ(c.get_prompts("w1", 2, 0).prompts.size(), 2u);
  ASSERT_EQ(c.push({group("0:0", 0, 0xabc, {1, 0}), group("0:1", 0, 0xabc, {0, 1})}).accepted, 2);

  // A stop on rank 0 takes nothing: the groups stay buffered for a later step.
  auto single = trainer::make_single_communicator();
  std::atomic<bool> no{false}, yes{true};
  double w = 0;
  EXPECT_EQ(trainer::receive_batch(&coord, *single, 2, 0, yes, w), "");
  const auto groups = trainer::parse_step_batch(trainer::receive_batch(&coord, *single, 2, 0, no, w));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].prompt_id, "0:0");
  EXPECT_EQ(groups[1].prompt_id, "0:1");

  // Two ranks: rank 0 has the next batch ready, rank 1 was told to stop. Both leave without a batch.
  ASSERT_EQ(c.get_prompts("w1", 2, 0).prompts.size(), 2u);
  ASSERT_EQ(c.push({group("0:2", 0, 0xabc, {1, 0}), group("0:3", 0, 0xabc, {0, 1})}).accepted, 2);
  auto comms = trainer::make_thread_communicators(2);
  std::string got[2] = {"unset", "unset"};
  std::thread r1([&] {
    double w1 = 0;
    got[1] = trainer::receive_batch(nullptr, *comms[1], 2, 0, yes, w1);
  });
  got[0] = trainer::receive_batch(&coord, *comms[0], 2, 0, no, w);
  r1.join();
  EXPECT_EQ(got[0], "");
  EXPECT_EQ(got[1], "");
}


TEST(CoordinatorService, AtTheEndAWorkerNotSeenForSomeLeasePeriodsIsStillWaitedForAndTold) {
  // A worker waiting out a reward outage is not heard from for several lease periods. If the coordinator
  // stopped without telling it, its next GetPrompts would find nobody and retry for
  // rollout.coordinator_patience_seconds (the grpo_loop e2e test hung on this in CI).
  auto o = options("t");
  o.lease_seconds = 0.2;
  trainer::Coordinator coord(o, rows(4), trainer::DataOrder(4, 1, false));
  publish(coord, 0, 7);
  auto worker = client(coord, "t");
  ASSERT_EQ(worker.get_prompts("w1", 1, 0).prompts.size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // three lease periods without a word
  coord.finish();
  std::atomic<bool> told{false};
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    told = worker.get_prompts("w1", 1, 0).finished;
  });
  const auto t0 = std::chrono::steady_clock::now();
  coord.wait_for_workers_to_leave(20.0);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  late.join();
  EXPECT_TRUE(told.load());
  EXPECT_GE(waited, 0.4) << "the coordinator did not wait for the worker";
  EXPECT_LT(waited, 15.0) << "the coordinator did not notice that the worker was told";
}
}  // namespace
}  // namespace seer
