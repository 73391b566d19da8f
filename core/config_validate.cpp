#include "core/config_validate.h"

#include <fmt/format.h>

#include "seer/build_info.h"

namespace seer {
namespace {

/// True when `address` is HOST:PORT with a port in [0, 65535] (IPv6 hosts in brackets), or unix:PATH.
bool valid_address(const std::string& address) {
  if (address.rfind("unix:", 0) == 0) return address.size() > 5;
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return false;
  const std::string port = address.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  return std::stoi(port) <= 65535;
}

}  // namespace

std::vector<ConfigIssue> validate_config(const ExperimentConfig& c,
                                         const std::function<std::string(std::string_view)>& where) {
  std::vector<ConfigIssue> issues;
  auto add = [&](std::string_view path, std::string message) { issues.push_back({where(path), std::move(message)}); };

  if (c.algorithm.name == "grpo" && c.rollout.group_size < 2) {
    add("rollout.group_size", fmt::format("rollout.group_size is {}, but algorithm '{}' needs a group of at least 2 "
                                          "completions per prompt to compute advantages",
                                          c.rollout.group_size, c.algorithm.name));
  }
  const int64_t ranks = c.cluster.learner_ranks;
  if (c.algorithm.name != "sft" && (c.trainer.prompts_per_step * c.rollout.group_size) % ranks != 0) {
    add("trainer.prompts_per_step",
        fmt::format("the batch of trainer.prompts_per_step x rollout.group_size = {} x {} = {} sequences does not "
                    "divide evenly among cluster.learner_ranks = {}",
                    c.trainer.prompts_per_step, c.rollout.group_size,
                    c.trainer.prompts_per_step * c.rollout.group_size, ranks));
  }
  if (c.algorithm.name == "sft" && c.trainer.prompts_per_step % ranks != 0) {
    add("trainer.prompts_per_step", fmt::format("trainer.prompts_per_step = {} rows does not divide evenly among "
                                                "cluster.learner_ranks = {}",
                                                c.trainer.prompts_per_step, ranks));
  }
  if (c.trainer.prompts_per_step % c.algorithm.mini_batches != 0) {
    add("algorithm.mini_batches", fmt::format("algorithm.mini_batches = {} does not divide trainer.prompts_per_step "
                                              "= {}: every mini-batch must hold whole groups",
                                              c.algorithm.mini_batches, c.trainer.prompts_per_step));
  }
  if (c.trainer.warmup_steps > c.trainer.steps) {
    add("trainer.warmup_steps", fmt::format("trainer.warmup_steps = {} is more than trainer.steps = {}",
                                            c.trainer.warmup_steps, c.trainer.steps));
  }
  if (c.algorithm.overlong_buffer_tokens >= c.rollout.max_new_tokens) {
    add("algorithm.overlong_buffer_tokens",
        fmt::format("algorithm.overlong_buffer_tokens = {} must be less than rollout.max_new_tokens = {}",
                    c.algorithm.overlong_buffer_tokens, c.rollout.max_new_tokens));
  }
  bool any_positive = false;
  for (const auto& [name, weight] : c.reward.weights) any_positive = any_positive || weight > 0;
  if (!any_positive) add("reward.weights", "reward.weights: at least one component needs a weight > 0");
  if (!valid_address(c.reward.address)) {
    add("reward.address", fmt::format("reward.address '{}' is not HOST:PORT (port 0-65535) or unix:PATH",
                                      c.reward.address));
  }
  if (!c.reward.auth_token_file.empty() && !c.reward.auth_token_env.empty()) {
    add("reward.auth_token_env", "set reward.auth_token_file or reward.auth_token_env, not both");
  }
  if (c.cluster.communicator == "nccl" && !build::kWithNccl) {
    add("cluster.communicator", "cluster.communicator is 'nccl' but this seer was built without NCCL "
                                "(configure with a CUDA LibTorch and NCCL, or use 'auto' or 'mpi')");
  }
  if (c.model.device == "cuda" && !build::kWithCuda) {
    add("model.device", "model.device is 'cuda' but this seer was built without CUDA (use 'auto' or 'cpu')");
  }
  return issues;
}

}  // namespace seer
