#include "trainer/rank_device.h"

#include <unistd.h>

#include <vector>

#include <spdlog/spdlog.h>
#include <torch/cuda.h>
#include <torch/types.h>

#include "core/check.h"
#include "core/gpu_choice.h"

namespace seer::trainer {
namespace {

constexpr int64_t kNameBytes = 160;

/// Every rank's `mine`, in rank order: byte strings laid out in one (world, kNameBytes) tensor that only the
/// owner fills, summed across ranks (exact in float64).
std::vector<std::string> all_gather_strings(const std::string& mine, Communicator& comm) {
  auto t = torch::zeros({comm.world_size(), kNameBytes}, torch::kDouble);
  auto row = t[comm.rank()];
  for (int64_t i = 0; i < std::min<int64_t>(kNameBytes, static_cast<int64_t>(mine.size())); ++i) {
    row[i] = static_cast<double>(static_cast<unsigned char>(mine[static_cast<size_t>(i)]));
  }
  comm.all_reduce_sum(t);
  std::vector<std::string> out;
  auto a = t.accessor<double, 2>();
  for (int64_t r = 0; r < t.size(0); ++r) {
    std::string s;
    for (int64_t i = 0; i < kNameBytes && a[r][i] != 0; ++i) s.push_back(static_cast<char>(static_cast<int>(a[r][i])));
    out.push_back(s);
  }
  return out;
}

}  // namespace

std::string rank_device(const ExperimentConfig& c, Communicator& comm) {
  const bool cuda = c.model.device == "cuda" || (c.model.device == "auto" && torch::cuda::is_available());
  if (!cuda) return "cpu";
  const GpuChoice choice = choose_gpu(gpu_environment(), static_cast<int>(torch::cuda::device_count()));
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  const std::vector<std::string> hosts = all_gather_strings(host, comm);
  const std::vector<std::string> physical = all_gather_strings(choice.physical, comm);
  const std::string problem = shared_gpu_problem(hosts, physical);
  SEER_CHECK(problem.empty(), "{}", problem);
  spdlog::info("rank {}: GPU cuda:{} (physical {}; {})", comm.rank(), choice.ordinal, choice.physical, choice.reason);
  return "cuda:" + std::to_string(choice.ordinal);
}

}  // namespace seer::trainer
