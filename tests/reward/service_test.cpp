// The gRPC reward service end to end on 127.0.0.1 (port 0): every field-report case through the wire,
// bearer-token auth, limits, time budget, unavailable service, and random bytes in every field.
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "core/check.h"
#include "proto/reward.grpc.pb.h"
#include "reward/client.h"
#include "reward/scorer.h"
#include "reward/service.h"
#include "reward_cases.h"

namespace seer::reward {
namespace {

ClientOptions client_for(const RewardServer& server, std::string token = "") {
  ClientOptions c;
  c.address = server.address();
  c.auth_token = std::move(token);
  c.timeout_seconds = 10;
  c.max_attempts = 2;
  c.initial_backoff_seconds = 0.01;
  return c;
}

TEST(RewardService, EveryCaseThroughGrpc) {
  const auto cases = testing::load_reward_cases();
  ASSERT_GT(cases.size(), 100u);
  RewardServer server(ServerOptions{});
  RewardClient client(client_for(server));
  std::vector<Sample> samples;
  for (const auto& c : cases) samples.push_back(c.sample);
  const std::vector<Score> scores = client.score(samples);
  ASSERT_EQ(scores.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const auto& s = scores[i];
    EXPECT_EQ(to_string(s.status), c.status) << c.id << ": " << c.why;
    const double tol = c.sample.answer_type == AnswerType::kBbox ? 1e-6 : 1e-9;
    ASSERT_EQ(s.components.count("accuracy"), 1u) << c.id;
    EXPECT_NEAR(s.components.at("accuracy"), c.accuracy, tol) << c.id << ": " << c.why;
    EXPECT_EQ(s.components.at("format"), c.format) << c.id << ": " << c.why;
    EXPECT_NEAR(s.total, 0.9 * c.accuracy + 0.1 * c.format, 1e-6) << c.id;
  }
}

TEST(RewardService, BearerTokenRequiredWhenConfigured) {
  ServerOptions o;
  o.auth_token = "s3cret";
  RewardServer server(o);
  Sample s;
  s.completion = "<think>t</think><answer>5</answer>";
  s.gold = "5";
  RewardClient anonymous(client_for(server));
  try {
    anonymous.score({s});
    FAIL() << "a request without the token must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gRPC status UNAUTHENTICATED (16)"), std::string::npos) << e.what();
  }
  RewardClient wrong(client_for(server, "guess"));
  EXPECT_THROW(wrong.score({s}), Error);
  RewardClient authorised(client_for(server, "s3cret"));
  EXPECT_EQ(authorised.score({s}).at(0).total, 1.0);
  EXPECT_FALSE(anonymous.healthy());
  EXPECT_TRUE(authorised.healthy());
}

TEST(RewardService, OversizedRequestIsRefusedNotScored) {
  ServerOptions o;
  o.max_request_bytes = 4096;
  RewardServer server(o);
  Sample s;
  s.completion = std::string(10000, 'x');
  s.gold = "5";
  RewardClient client(client_for(server));
  EXPECT_THROW(client.score({s}), Error);
  s.completion = "<think>t</think><answer>5</answer>";
  EXPECT_EQ(client.score({s}).at(0).status, Status::kOk);  // the server is still serving
}

TEST(RewardService, TooManySamplesAreRefusedCountedAndTheServiceGoesOn) {
  auto registry = std::make_shared<prometheus::Registry>();
  ServerOptions o;
  o.max_samples_per_request = 3;
  o.metrics = registry;
  RewardServer server(o);
  Sample s;
  s.completion = "<think>t</think><answer>5</answer>";
  s.gold = "5";
  RewardClient client(client_for(server));
  try {
    client.score({s, s, s, s});
    ADD_FAILURE() << "4 samples over a limit of 3 were scored";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("over reward.max_samples_per_request 3"), std::string::npos) << e.what();
  }
  EXPECT_EQ(client.score({s, s, s}).size(), 3u);  // at the limit: scored; the server is still serving
  double refused = -1;
  for (const auto& family : registry->Collect()) {
    if (family.name == "seer_reward_refused_total") refused = family.metric.at(0).counter.value;
  }
  EXPECT_EQ(refused, 1.0);
}

TEST(RewardService, OverBudgetIsUnscorableNeverZero) {
  ServerOptions o;
  o.scoring.budget_seconds = 1e-9;
  RewardServer server(o);
  Sample s;
  s.completion = "<think>t</think><answer>x^2 + 2x + 1</answer>";
  s.gold = "(x+1)^2";
  RewardClient client(client_for(server));
  const Score r = client.score({s}).at(0);
  EXPECT_EQ(r.status, Status::kUnscorable);
  EXPECT_TRUE(r.components.empty());
}

// Field report (other RL frameworks): a scorer exception in one thread of the reward service failed the whole
// request, or came back as reward 0. Here 8 clients at once send requests mixing good samples, samples whose
// scorer throws and samples whose scorer overruns its budget: only the failing samples are UNSCORABLE, each good
// sample gets exactly the score the plain scorer gives, and the service goes on serving.
TEST(RewardService, ScorerFailuresAreUnscorableForThatSampleOnlyUnderConcurrentClients) {
  ServerOptions o;
  o.threads = 4;
  o.scoring.budget_seconds = 0.2;  // a request of 12 samples on 4 threads may take 0.2 x (1 + 12/4) + 1 = 1.8 s
  o.scorer = [](const Sample& s, const ScoringOptions& so) {
    if (s.gold == "throws") throw std::runtime_error("injected scorer failure");
    if (s.gold == "hangs") std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    return score_sample(s, so);
  };
  RewardServer server(o);
  const ScoringOptions plain = o.scoring;
  std::atomic<int> checked{0}, failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      RewardClient client(client_for(server));
      std::vector<Sample> batch;
      for (int i = 0; i < 12; ++i) {
        Sample s;
        const int v = c * 100 + i;
        s.completion = "<think>t</think><answer>" + std::to_string(v % 7 == 0 ? v + 1 : v) + "</answer>";
        s.gold = i == 3 ? "throws" : (i == 7 && c % 4 == 0) ? "hangs" : std::to_string(v);
        batch.push_back(s);
      }
      const std::vector<Score> got = client.score(batch);
      for (size_t i = 0; i < batch.size(); ++i) {
        if (batch[i].gold == "throws" || batch[i].gold == "hangs") {
          if (got[i].status != Status::kUnscorable || !got[i].components.empty()) {
            ++failures;
            ADD_FAILURE() << batch[i].gold << ": " << to_string(got[i].status) << " " << got[i].detail << " " << got[i].components.size();
          }
        } else {
          const Score want = score_sample(batch[i], plain);
          if (got[i].status != want.status || got[i].total != want.total) ++failures;
        }
        ++checked;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(checked.load(), 8 * 12);
  EXPECT_EQ(failures.load(), 0);
  // still serving, and a good sample scores 1 (some right answers above score 1, some 0: both checked exactly)
  Sample s;
  s.completion = "<think>t</think><answer>5</answer>";
  s.gold = "5";
  EXPECT_EQ(RewardClient(client_for(server)).score({s}).at(0).total, 1.0);
}

TEST(RewardService, UnavailableServiceIsAnErrorAfterRetries) {
  int port = 0;
  {
    RewardServer probe(ServerOptions{});  // find a port, then close it
    port = probe.port();
  }
  ClientOptions c;
  c.address = "127.0.0.1:" + std::to_string(port);
  c.timeout_seconds = 1;
  c.max_attempts = 3;
  c.initial_backoff_seconds = 0.01;
  RewardClient client(c);
  Sample s;
  try {
    client.score({s});
    FAIL() << "an unavailable service must not produce scores";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(c.address), std::string::npos) << e.what();
  }
}

TEST(RewardService, ShutdownLetsInFlightRequestsFinish) {
  // Enough work to be in flight when shutdown starts: many samples with free-variable math (~0.5 s), in one
  // request, so the per-request sample limit is raised to hold it.
  std::vector<Sample> samples(20000);
  ServerOptions o;
  o.threads = 1;
  o.max_samples_per_request = static_cast<int64_t>(samples.size());
  auto server = std::make_unique<RewardServer>(o);
  for (auto& s : samples) {
    s.completion = "<think>t</think><answer>(x+1)^3 - (y-2)^2</answer>";
    s.gold = "x^3 + 3x^2 + 3x + 1 - y^2 + 4y - 4";
  }
  RewardClient client(client_for(*server));
  ASSERT_EQ(client.score({samples[0]}).size(), 1u);  // the channel is connected before the big request
  std::vector<Score> scores;
  std::string error;
  std::thread request([&] {
    try {
      scores = client.score(samples);
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  server->shutdown(60.0);
  request.join();
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(scores.size(), samples.size());
  for (const auto& s : scores) EXPECT_EQ(s.total, 1.0);
}

TEST(RewardService, RandomBytesInEveryFieldNeverCrashIt) {
  RewardServer server(ServerOptions{});
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  auto stub = v1::RewardService::NewStub(channel);
  std::mt19937_64 rng(7);
  auto bytes = [&](size_t max_len) {
    std::string s(rng() % max_len, '\0');
    const char* alphabet = "<>/\\{}$()[],.=^_-+*0123456789 abcdefghijklmnopqrstuvwxyzABCDE\n\t";
    for (char& c : s) c = rng() % 3 == 0 ? static_cast<char>(rng()) : alphabet[rng() % 64];
    return s;
  };
  for (int round = 0; round < 50; ++round) {
    v1::ScoreRequest req;
    for (int i = 0; i < 8; ++i) {
      v1::Sample* p = req.add_samples();
      p->set_id(std::to_string(i));
      p->set_completion("<think>" + bytes(300) + "</think><answer>" + bytes(60) + "</answer>" + bytes(20));
      p->set_prefill(bytes(10));
      p->set_gold(bytes(40));
      p->set_answer_type(static_cast<v1::AnswerType>(rng() % 9));  // includes unknown enum values
      p->set_box_frame(static_cast<v1::BoxFrame>(rng() % 6));
      p->set_truncated(rng() % 5 == 0);
      p->add_stop(bytes(3));
      p->mutable_original_image()->set_width_pixels(static_cast<uint32_t>(rng()));
      p->mutable_model_input_image()->set_height_pixels(static_cast<uint32_t>(rng() % 3));
    }
    grpc::ClientContext ctx;
    v1::ScoreResponse resp;
    const grpc::Status st = stub->Score(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(resp.results_size(), 8);
    for (const auto& r : resp.results()) EXPECT_NE(r.status(), v1::STATUS_UNSPECIFIED);
  }
  RewardClient client(client_for(server));
  EXPECT_TRUE(client.healthy());
}

}  // namespace
}  // namespace seer::reward
