// Data parallelism: the same loss on 2 ranks (half the batch each, global denominators, SUM all-reduce of
// bucketed gradients) gives the gradients of 1 rank on the whole batch; a rank with no samples neither
// hangs nor diverges. Runs with threads as ranks (unit) and, as `data_parallel_mpi_tests`, under mpirun.
#include <thread>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/check.h"
#include "seer/build_info.h"
#include "trainer/communicator.h"
#include "trainer/grad_sync.h"
#include "trainer/gradient_reducer.h"
#include "trainer/policy_loss.h"

namespace seer::trainer {
namespace {

/// A small differentiable "policy": token log-probs = log_softmax(x · W)[target] per token.
struct Toy {
  torch::Tensor w1, w2;  // parameters (D, V) and (V)
  /// Fixed weights computed from their index: no global RNG, so ranks running as threads agree.
  Toy() {
    w1 = (torch::arange(8 * 16, torch::kDouble).view({8, 16}) * 0.37).sin().requires_grad_(true);
    w2 = (torch::arange(16, torch::kDouble) * 0.11).cos().requires_grad_(true);
  }
  std::vector<torch::Tensor> params() const { return {w1, w2}; }
  /// x (B, T, 8), targets (B, T) -> logp (B, T)
  torch::Tensor logp(const torch::Tensor& x, const torch::Tensor& targets) const {
    return torch::log_softmax(torch::matmul(x, w1) + w2, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1);
  }
};

struct Batch {
  torch::Tensor x, targets, logp_old, adv, mask;
  Batch slice(int64_t from, int64_t n) const {
    return {x.narrow(0, from, n), targets.narrow(0, from, n), logp_old.narrow(0, from, n), adv.narrow(0, from, n),
            mask.narrow(0, from, n)};
  }
};

Batch make_batch() {
  torch::manual_seed(3);
  const int64_t B = 6, T = 5;
  Batch b{torch::randn({B, T, 8}, torch::kDouble), torch::randint(0, 16, {B, T}), torch::randn({B, T}, torch::kDouble) - 2.5,
          torch::randn({B}, torch::kDouble), torch::rand({B, T}) > 0.3};
  b.mask[1].fill_(false);  // a fully masked sequence
  return b;
}

/// Loss of `part` normalised by the global denominator, backward, bucketed all-reduce; returns the gradients.
std::vector<torch::Tensor> step(const Batch& part, double global_denominator, Communicator& comm) {
  Toy model;
  ClipLossOptions o;
  o.eps_high = 0.28;
  if (part.x.size(0) > 0) {
    const auto token_loss = clipped_token_loss(model.logp(part.x, part.targets), part.logp_old, part.adv, part.mask, o);
    aggregate(token_loss, part.mask, Aggregation::kTokenMean, 1.0, global_denominator).backward();
  }
  all_reduce_gradients(model.params(), comm, /*bucket_bytes=*/256);  // tiny buckets: several collectives
  clip_grad_norm(model.params(), 0.0);
  return {model.w1.grad().clone(), model.w2.grad().clone()};
}

void expect_close(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    const double rel = (a[i] - b[i]).norm().item<double>() / b[i].norm().item<double>();
    EXPECT_LT(rel, 1e-12) << "parameter " << i;
  }
}

/// Runs one rank per (first sequence, count) split as threads and checks every rank ends with the
/// gradients of a single rank on the whole batch.
void expect_ranks_match_single(const std::vector<std::pair<int64_t, int64_t>>& splits) {
  const Batch batch = make_batch();
  const double denom = aggregation_denominator(batch.mask, Aggregation::kTokenMean);
  auto single = make_single_communicator();
  const auto reference = step(batch, denom, *single);
  auto comms = make_thread_communicators(static_cast<int>(splits.size()));
  std::vector<std::vector<torch::Tensor>> grads(splits.size());
  std::vector<std::thread> ranks;
  for (size_t r = 0; r < splits.size(); ++r) {
    ranks.emplace_back([&, r] { grads[r] = step(batch.slice(splits[r].first, splits[r].second), denom, *comms[r]); });
  }
  for (auto& t : ranks) t.join();
  for (const auto& g : grads) expect_close(g, reference);
}

TEST(DataParallel, TwoThreadRanksEqualOneRankOnTheWholeBatch) { expect_ranks_match_single({{0, 3}, {3, 3}}); }

TEST(DataParallel, RankWithNoSamplesTakesPartAndAddsNothing) {
  expect_ranks_match_single({{0, 4}, {4, 2}, {4, 0}});  // rank 2 holds no sequence
}

/// The same step with the all-reduce overlapping backward (GradientReducer): two micro-batches, the reducer armed
/// for the second, plus a parameter no loss uses. Runs the step twice (the buckets are zeroed in between) and
/// returns the second step's gradients; `overlapped` gets the buckets reduced while backward ran.
std::vector<torch::Tensor> overlapped_step(const Batch& part, double global_denominator, Communicator& comm,
                                           int* overlapped) {
  Toy model;
  auto unused = torch::zeros({4}, torch::kDouble).requires_grad_(true);
  // Reverse order [w2, w1, unused]: w2 and w1 complete during backward; `unused` waits for finish().
  GradientReducer reducer({unused, model.w1, model.w2}, comm, /*bucket_bytes=*/256);
  ClipLossOptions o;
  o.eps_high = 0.28;
  for (int repeat = 0; repeat < 2; ++repeat) {
    const int64_t n = part.x.size(0), first = n / 2;
    for (const auto& [from, count] : {std::pair<int64_t, int64_t>{0, first}, {first, n - first}}) {
      if (count == 0) continue;
      const Batch mb = part.slice(from, count);
      const auto token_loss = clipped_token_loss(model.logp(mb.x, mb.targets), mb.logp_old, mb.adv, mb.mask, o);
      if (from + count == n) reducer.arm();
      aggregate(token_loss, mb.mask, Aggregation::kTokenMean, 1.0, global_denominator).backward();
    }
    reducer.finish();
    *overlapped = reducer.overlapped_buckets();
    EXPECT_TRUE(torch::equal(unused.grad(), torch::zeros({4}, torch::kDouble)));
    if (repeat == 0) reducer.zero();
  }
  EXPECT_EQ(reducer.buckets(), 3);
  return {model.w1.grad().clone(), model.w2.grad().clone()};
}

TEST(DataParallel, AllReduceDuringBackwardEqualsAfter) {
  const Batch batch = make_batch();
  const double denom = aggregation_denominator(batch.mask, Aggregation::kTokenMean);
  auto single = make_single_communicator();
  const auto reference = step(batch, denom, *single);
  const std::vector<std::pair<int64_t, int64_t>> splits = {{0, 4}, {4, 2}, {4, 0}};  // rank 2 holds no sequence
  auto comms = make_thread_communicators(3);
  std::vector<std::vector<torch::Tensor>> grads(3);
  std::vector<int> overlapped(3, -1);
  std::vector<std::thread> ranks;
  for (size_t r = 0; r < 3; ++r) {
    ranks.emplace_back([&, r] {
      grads[r] = overlapped_step(batch.slice(splits[r].first, splits[r].second), denom, *comms[r], &overlapped[r]);
    });
  }
  for (auto& t : ranks) t.join();
  for (const auto& g : grads) expect_close(g, reference);
  EXPECT_EQ(overlapped[0], 2) << "w2's and w1's buckets go out while backward runs";
  EXPECT_EQ(overlapped[1], 2);
  EXPECT_EQ(overlapped[2], 0) << "a rank without data reduces everything in finish()";
}

TEST(Collectives, AllGatherAndReduceScatterOnThreeThreadRanks) {
  auto comms = make_thread_communicators(3);
  std::vector<torch::Tensor> gathered(3), blocks(3);
  std::vector<std::thread> ranks;
  for (int r = 0; r < 3; ++r) {
    ranks.emplace_back([&, r] {
      gathered[static_cast<size_t>(r)] = torch::zeros({6}, torch::kDouble);
      comms[static_cast<size_t>(r)]->all_gather(torch::full({2}, static_cast<double>(r), torch::kDouble),
                                                gathered[static_cast<size_t>(r)]);
      blocks[static_cast<size_t>(r)] = torch::zeros({2}, torch::kDouble);
      comms[static_cast<size_t>(r)]->reduce_scatter_sum(torch::arange(6, torch::kDouble) * (r + 1),
                                                        blocks[static_cast<size_t>(r)]);
    });
  }
  for (auto& t : ranks) t.join();
  for (int r = 0; r < 3; ++r) {
    EXPECT_TRUE(torch::equal(gathered[static_cast<size_t>(r)], torch::tensor({0., 0., 1., 1., 2., 2.}, torch::kDouble)));
    // (1 + 2 + 3) · (0..5), block r.
    EXPECT_TRUE(torch::equal(blocks[static_cast<size_t>(r)], torch::arange(2 * r, 2 * r + 2, torch::kDouble) * 6))
        << blocks[static_cast<size_t>(r)];
  }
  auto single = make_single_communicator();
  auto out = torch::zeros({4});
  EXPECT_THROW(single->all_gather(torch::zeros({2}), out), Error);  // 2 elements cannot fill 4 for one rank
}

/// Counts the calls it gets (a stand-in transport for the routing test).
class CountingCommunicator final : public Communicator {
 public:
  CountingCommunicator(int rank, int world, std::string name) : rank_(rank), world_(world), name_(std::move(name)) {}
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  std::string name() const override { return name_; }
  void all_reduce_sum(at::Tensor&) override { ++calls; }
  void broadcast(at::Tensor&, int) override { ++calls; }
  void all_gather(const at::Tensor&, at::Tensor&) override { ++calls; }
  void reduce_scatter_sum(const at::Tensor&, at::Tensor&) override { ++calls; }
  void barrier() override { ++calls; }
  int calls = 0;

 private:
  int rank_, world_;
  std::string name_;
};

TEST(Collectives, RoutedSendsHostTensorsToTheHostTransport) {
  CountingCommunicator host(1, 2, "mpi");
  auto device = std::make_unique<CountingCommunicator>(1, 2, "nccl");
  CountingCommunicator* device_view = device.get();
  auto routed = make_routed_communicator(host, std::move(device));
  EXPECT_EQ(routed->name(), "nccl+mpi");
  EXPECT_EQ(routed->rank(), 1);
  EXPECT_EQ(routed->world_size(), 2);
  auto t = torch::zeros({4});
  auto half = torch::zeros({2});
  routed->all_reduce_sum(t);
  routed->broadcast(t, 0);
  routed->all_gather(half, t);
  routed->reduce_scatter_sum(t, half);
  routed->barrier();
  EXPECT_EQ(host.calls, 5);
  EXPECT_EQ(device_view->calls, 0);  // CUDA tensors would go there (needs a GPU to show)
  EXPECT_THROW(make_routed_communicator(host, std::make_unique<CountingCommunicator>(0, 2, "nccl")), Error);
}

TEST(Collectives, NcclIsRefusedClearlyWithoutIt) {
  if (build::kWithNccl) GTEST_SKIP() << "this build has NCCL (its communicator needs a GPU to run)";
  try {
    make_nccl_communicator(0);
    FAIL() << "an NCCL communicator without NCCL";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("make build-cuda"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace seer::trainer
