// Which GPU a process uses: one rank per GPU, picked from the launcher's local rank (OpenMPI
// OMPI_COMM_WORLD_LOCAL_RANK, Slurm SLURM_LOCALID, MPICH MPI_LOCALRANKID, torchrun LOCAL_RANK) among the
// devices CUDA_VISIBLE_DEVICES leaves visible; a process that sees exactly one device uses it. Pure functions
// (no CUDA): the learner and the rollout worker call them with the environment and the visible device count,
// and the learner ranks compare their choices so two ranks never share a GPU.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace seer {

struct GpuChoice {
  int ordinal = 0;       ///< CUDA device ordinal inside this process ("cuda:<ordinal>")
  std::string physical;  ///< the device as the machine names it: its CUDA_VISIBLE_DEVICES entry, or the ordinal
  std::string reason;    ///< how it was chosen, for the log ("OMPI_COMM_WORLD_LOCAL_RANK=1 of 4 visible")
};

/// The environment variables choose_gpu reads, from the process environment.
std::map<std::string, std::string> gpu_environment();

/// Picks the GPU for this process. `env` holds the variables above (absent = unset), `visible_devices` the
/// device count CUDA reports. Throws seer::Error when there is no GPU, or when the local rank has no device
/// of its own (local rank >= visible devices, naming the variable, the count and CUDA_VISIBLE_DEVICES).
GpuChoice choose_gpu(const std::map<std::string, std::string>& env, int visible_devices);

/// "" when every rank has its own GPU; otherwise one line naming the ranks that share one (same host, same
/// physical device). `hosts[r]`, `physical[r]`: rank r's host name and GpuChoice::physical.
std::string shared_gpu_problem(const std::vector<std::string>& hosts, const std::vector<std::string>& physical);

}  // namespace seer
