// Under `mpirun -np 2`: the MPI communicator's collectives and the 2-ranks == 1-rank gradient property.
#include <cstdio>

#include <torch/torch.h>

#include "trainer/communicator.h"
#include "trainer/grad_sync.h"

using namespace seer::trainer;

int main() {
  auto comm = make_mpi_communicator();
  const int rank = comm->rank(), world = comm->world_size();
  int failures = 0;
  auto check = [&](bool ok, const char* what) {
    if (!ok) {
      std::fprintf(stderr, "[rank %d] FAIL: %s\n", rank, what);
      ++failures;
    }
  };
  check(world == 2, "world size is 2 (run under mpirun -np 2)");
  auto t = torch::full({1000}, static_cast<double>(rank + 1), torch::kFloat);
  comm->all_reduce_sum(t);
  check(torch::allclose(t, torch::full({1000}, 3.0, torch::kFloat)), "all_reduce_sum of 1 and 2 is 3");
  auto b = torch::full({7}, static_cast<double>(rank == 1 ? 42 : 0), torch::kDouble);
  comm->broadcast(b, 1);
  check(torch::allclose(b, torch::full({7}, 42.0, torch::kDouble)), "broadcast from rank 1");
  // All-gather: rank r's (r+1, r+1, r+1) lands in block r; reduce-scatter: rank r gets block r of the sum.
  auto mine = torch::full({3}, static_cast<double>(rank + 1), torch::kDouble);
  auto gathered = torch::zeros({3 * world}, torch::kDouble);
  comm->all_gather(mine, gathered);
  check(torch::equal(gathered, torch::tensor({1., 1., 1., 2., 2., 2.}, torch::kDouble)), "all_gather in rank order");
  auto contribution = torch::arange(6, torch::kFloat) * (rank + 1);  // summed: 3·(0..5)
  auto block = torch::zeros({3}, torch::kFloat);
  comm->reduce_scatter_sum(contribution, block);
  check(torch::equal(block, torch::arange(3 * rank, 3 * rank + 3, torch::kFloat) * 3), "reduce_scatter_sum block");
  bool refused = false;
  try {
    auto wrong = torch::zeros({5}, torch::kDouble);
    comm->all_gather(mine, wrong);
  } catch (const std::exception&) {
    refused = true;
  }
  check(refused, "all_gather refuses an output of the wrong size");
  // Bucketed gradients: rank r holds gradient (r+1)·g for two parameters; the sum is 3·g.
  torch::manual_seed(0);
  auto p1 = torch::randn({300}).requires_grad_(true), p2 = torch::randn({5, 5}).requires_grad_(true);
  const auto g1 = torch::randn({300}), g2 = torch::randn({5, 5});
  p1.mutable_grad() = g1 * (rank + 1);
  if (rank == 0) p2.mutable_grad() = g2;  // rank 1 has no gradient for p2: it contributes zeros
  const auto stats = all_reduce_gradients({p1, p2}, *comm, 512);
  check(torch::allclose(p1.grad(), g1 * 3), "bucketed all-reduce of p1");
  check(torch::allclose(p2.grad(), g2), "a missing gradient counts as zero");
  check(stats.buckets >= 2, "several buckets");
  comm->barrier();
  if (rank == 0) std::printf("%d passed, %d failed\n", failures == 0 ? 8 : 8 - failures, failures);
  return failures == 0 ? 0 : 1;
}
