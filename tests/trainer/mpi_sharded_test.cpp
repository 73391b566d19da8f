// Under `mpirun -np 2`: AdamW sharded across the ranks (trainer/sharded_optimizer.h, ZeRO 1-2) gives the
// parameters of the unsharded AdamW on the summed, clipped gradients after 3 steps (float64, rel < 1e-10),
// with weight decay, a per-prefix learning rate and a parameter count that does not divide by the world; its
// gathered state equals AdamW's, and a world of one resumes it and keeps matching.
#include <cstdio>

#include <torch/torch.h>

#include "trainer/communicator.h"
#include "trainer/grad_sync.h"
#include "trainer/optimizer.h"
#include "trainer/sharded_optimizer.h"

using namespace seer::trainer;

namespace {

std::map<std::string, torch::Tensor> make_params() {
  torch::manual_seed(3);
  return {{"model.a", torch::randn({7}, torch::kDouble).requires_grad_(true)},
          {"model.b", torch::randn({3, 4}, torch::kDouble).requires_grad_(true)},
          {"visual.merger.w", torch::randn({2, 2}, torch::kDouble).requires_grad_(true)}};
}

/// Rank r's gradient of parameter `name` at step `s` (deterministic, different per rank).
torch::Tensor gradient(const std::string& name, const torch::Tensor& p, int rank, int s) {
  auto g = torch::sin(torch::arange(p.numel(), torch::kDouble) * (rank + 1) + s + static_cast<double>(name.size()));
  return (g * (rank == 0 ? 1.0 : -0.5) * (s + 1)).view(p.sizes());
}

double rel(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).norm().item<double>() / std::max(1e-300, b.norm().item<double>());
}

}  // namespace

int main() {
  auto comm = make_mpi_communicator();
  const int rank = comm->rank(), world = comm->world_size();
  int failures = 0, checks = 0;
  auto check = [&](bool ok, const std::string& what) {
    ++checks;
    if (!ok) {
      std::fprintf(stderr, "[rank %d] FAIL: %s\n", rank, what.c_str());
      ++failures;
    }
  };
  check(world == 2, "world size is 2 (run under mpirun -np 2)");
  AdamWOptions o;
  o.lr = 0.05;
  o.weight_decay = 0.1;
  o.lr_scale_by_prefix = {{"visual.merger.", 0.5}};
  const double max_norm = 1.5;  // the step-3 gradients exceed it: clipping is exercised

  auto sharded_params = make_params(), plain_params = make_params();
  ShardedAdamW sharded(sharded_params, o, *comm);
  AdamW plain(plain_params, o);
  check(sharded.shard_elements() == 12, "23 elements over 2 ranks: shards of 12 (one padding element), got " +
                                            std::to_string(sharded.shard_elements()));
  for (int s = 0; s < 3; ++s) {
    // Sharded: each rank holds its own gradient.
    for (auto& [name, p] : sharded_params) p.mutable_grad() = gradient(name, p, rank, s);
    const double norm = sharded.step(max_norm);
    sharded.zero_grad();
    // Unsharded, on every rank: the sum of both ranks' gradients, clipped, one AdamW step.
    std::vector<torch::Tensor> list;
    for (auto& [name, p] : plain_params) {
      p.mutable_grad() = gradient(name, p, 0, s) + gradient(name, p, 1, s);
      list.push_back(p);
    }
    const double plain_norm = clip_grad_norm(list, max_norm);
    plain.step();
    plain.zero_grad();
    check(std::abs(norm - plain_norm) < 1e-10 * plain_norm, "step " + std::to_string(s) + ": global gradient norm");
    for (const auto& [name, p] : plain_params) {
      check(rel(sharded_params.at(name), p) < 1e-10, "step " + std::to_string(s) + ": parameter " + name);
    }
  }
  // The gathered state is AdamW's, by the same names.
  const auto state = sharded.state(), expect = plain.state();
  check(state.size() == expect.size(), "state has AdamW's entries");
  for (const auto& [name, t] : expect) {
    auto it = state.find(name);
    check(it != state.end() && (t.scalar_type() == torch::kLong ? torch::equal(it->second, t) : rel(it->second, t) < 1e-10),
          "state " + name);
  }
  // A world of one resumes the two-rank state: the next step still matches.
  auto single = make_single_communicator();
  auto resumed_params = make_params();
  for (auto& [name, p] : resumed_params) {
    torch::NoGradGuard ng;
    p.copy_(sharded_params.at(name));
  }
  ShardedAdamW resumed(resumed_params, o, *single);
  resumed.load_state(state, sharded.steps());
  for (auto& [name, p] : resumed_params) p.mutable_grad() = gradient(name, p, 0, 3) + gradient(name, p, 1, 3);
  resumed.step(max_norm);
  std::vector<torch::Tensor> list;
  for (auto& [name, p] : plain_params) {
    p.mutable_grad() = gradient(name, p, 0, 3) + gradient(name, p, 1, 3);
    list.push_back(p);
  }
  clip_grad_norm(list, max_norm);
  plain.step();
  for (const auto& [name, p] : plain_params) check(rel(resumed_params.at(name), p) < 1e-10, "resumed at world 1: " + name);
  comm->barrier();
  if (rank == 0) std::printf("%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}
