#include "core/gpu_choice.h"

#include <cstdlib>

#include <fmt/format.h>

#include "core/check.h"

namespace seer {
namespace {

/// Local-rank variables, in the order they are trusted.
const char* const kLocalRankVariables[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID",
                                           "LOCAL_RANK"};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> gpu_environment() {
  std::map<std::string, std::string> env;
  for (const char* name : kLocalRankVariables) {
    if (const char* v = std::getenv(name)) env[name] = v;
  }
  if (const char* v = std::getenv("CUDA_VISIBLE_DEVICES")) env["CUDA_VISIBLE_DEVICES"] = v;
  return env;
}

GpuChoice choose_gpu(const std::map<std::string, std::string>& env, int visible_devices) {
  const auto visible_it = env.find("CUDA_VISIBLE_DEVICES");
  const std::string visible_text = visible_it == env.end() ? "(unset)" : visible_it->second;
  SEER_CHECK(visible_devices > 0, "no CUDA device is visible to this process (CUDA_VISIBLE_DEVICES={}); set "
             "model.device: cpu, or run it where a GPU is", visible_text);
  const std::vector<std::string> listed =
      visible_it == env.end() ? std::vector<std::string>{} : split_commas(visible_it->second);
  GpuChoice c;
  std::string variable;
  int local_rank = -1;
  for (const char* name : kLocalRankVariables) {
    auto it = env.find(name);
    if (it == env.end()) continue;
    char* end = nullptr;
    const long v = std::strtol(it->second.c_str(), &end, 10);
    SEER_CHECK(end != it->second.c_str() && *end == '\0' && v >= 0 && v < 1 << 20,
               "{}='{}' is not a local rank (a number from 0)", name, it->second);
    variable = name;
    local_rank = static_cast<int>(v);
    break;
  }
  if (visible_devices == 1) {
    // The launcher gave this process one device (Slurm --gpus-per-task=1, or CUDA_VISIBLE_DEVICES per rank).
    c.ordinal = 0;
    c.reason = local_rank < 0 ? "the only visible device"
                              : fmt::format("the only visible device ({}={})", variable, local_rank);
  } else if (local_rank < 0) {
    c.ordinal = 0;
    c.reason = fmt::format("device 0 of {} visible (no local-rank variable: one process per machine)",
                           visible_devices);
  } else {
    SEER_CHECK(local_rank < visible_devices,
               "{}={} needs GPU {} but only {} are visible (CUDA_VISIBLE_DEVICES={}): start at most one rank per "
               "GPU on each machine", variable, local_rank, local_rank, visible_devices, visible_text);
    c.ordinal = local_rank;
    c.reason = fmt::format("{}={} of {} visible", variable, local_rank, visible_devices);
  }
  c.physical = static_cast<size_t>(c.ordinal) < listed.size() ? listed[static_cast<size_t>(c.ordinal)]
                                                              : std::to_string(c.ordinal);
  return c;
}

std::string shared_gpu_problem(const std::vector<std::string>& hosts, const std::vector<std::string>& physical) {
  SEER_CHECK(hosts.size() == physical.size(), "shared_gpu_problem: {} hosts for {} devices", hosts.size(),
             physical.size());
  for (size_t a = 0; a < hosts.size(); ++a) {
    for (size_t b = a + 1; b < hosts.size(); ++b) {
      if (hosts[a] == hosts[b] && physical[a] == physical[b]) {
        return fmt::format("ranks {} and {} would share GPU {} on {}: give each rank its own GPU (one rank per GPU; "
                           "with Slurm, --gpus-per-task=1 or --gpu-bind=single:1)", a, b, physical[a], hosts[a]);
      }
    }
  }
  return "";
}

}  // namespace seer
