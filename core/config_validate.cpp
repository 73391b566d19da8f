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

std::vector<ConfigIssue> validate_config(const ExperimentConfig& c, const KeyOrigins& origins) {
  std::vector<ConfigIssue> issues;
  // rule(keys, violated, message): reported at the best position among `keys`, skipped if any was rejected.
  auto rule = [&](std::initializer_list<std::string_view> keys, bool violated, const std::string& message) {
    if (!violated) return;
    for (auto k : keys) {
      if (origins.failed(k)) return;
    }
    ConfigIssue issue = origins.locate(keys);
    issue.message = message;
    issues.push_back(std::move(issue));
  };

  const bool grpo = c.algorithm.name == "grpo";
  const bool lora = c.model.lora.rank > 0;
  rule({"model.lora.target_modules", "model.lora.rank"}, lora && c.model.lora.target_modules.empty(),
       "model.lora.rank > 0 needs model.lora.target_modules (e.g. [q_proj, v_proj])");
  rule({"model.freeze_vision_tower", "model.lora.rank"}, lora && !c.model.freeze_vision_tower,
       "model.lora trains adapters on a frozen model: model.freeze_vision_tower must stay true");
  rule({"model.reference_path", "model.lora.rank"}, lora && !c.model.reference_path.empty() && grpo,
       "with model.lora the reference model is the policy without its adapters: leave model.reference_path empty");
  rule({"rollout.group_size", "algorithm.name"}, grpo && c.rollout.group_size < 2,
       fmt::format("rollout.group_size is {}, but algorithm '{}' needs a group of at least 2 completions per prompt "
                   "to compute advantages",
                   c.rollout.group_size, c.algorithm.name));
  const int64_t ranks = c.cluster.learner_ranks;
  const int64_t per_call = c.rollout.prompts_per_call * c.rollout.group_size;
  rule({"rollout.prompts_per_call", "rollout.group_size", "reward.max_samples_per_request"},
       grpo && per_call > c.reward.max_samples_per_request,
       fmt::format("a rollout worker scores rollout.prompts_per_call x rollout.group_size = {} x {} = {} samples per "
                   "request, over reward.max_samples_per_request {}", c.rollout.prompts_per_call,
                   c.rollout.group_size, per_call, c.reward.max_samples_per_request));
  const int64_t sequences = c.trainer.prompts_per_step * c.rollout.group_size;
  rule({"cluster.learner_ranks", "trainer.prompts_per_step", "rollout.group_size", "algorithm.name"},
       grpo && sequences % ranks != 0,
       fmt::format("the batch of trainer.prompts_per_step x rollout.group_size = {} x {} = {} sequences does not "
                   "divide evenly among cluster.learner_ranks = {}",
                   c.trainer.prompts_per_step, c.rollout.group_size, sequences, ranks));
  rule({"cluster.learner_ranks", "trainer.prompts_per_step", "algorithm.name"},
       !grpo && c.trainer.prompts_per_step % ranks != 0,
       fmt::format("trainer.prompts_per_step = {} rows does not divide evenly among cluster.learner_ranks = {}",
                   c.trainer.prompts_per_step, ranks));
  rule({"algorithm.mini_batches", "trainer.prompts_per_step"}, c.trainer.prompts_per_step % c.algorithm.mini_batches != 0,
       fmt::format("algorithm.mini_batches = {} does not divide trainer.prompts_per_step = {}: every mini-batch must "
                   "hold whole groups",
                   c.algorithm.mini_batches, c.trainer.prompts_per_step));
  rule({"trainer.warmup_steps", "trainer.steps"}, c.trainer.warmup_steps > c.trainer.steps,
       fmt::format("trainer.warmup_steps = {} is more than trainer.steps = {}", c.trainer.warmup_steps,
                   c.trainer.steps));
  rule({"algorithm.overlong_buffer_tokens", "rollout.max_new_tokens"},
       c.algorithm.overlong_buffer_tokens >= c.rollout.max_new_tokens,
       fmt::format("algorithm.overlong_buffer_tokens = {} must be less than rollout.max_new_tokens = {}",
                   c.algorithm.overlong_buffer_tokens, c.rollout.max_new_tokens));
  bool any_positive = false;
  for (const auto& [name, weight] : c.reward.weights) any_positive = any_positive || weight > 0;
  rule({"reward.weights"}, !any_positive, "reward.weights: at least one component needs a weight > 0");
  rule({"reward.address"}, !valid_address(c.reward.address),
       fmt::format("reward.address '{}' is not HOST:PORT (port 0-65535) or unix:PATH", c.reward.address));
  rule({"reward.auth_token_env", "reward.auth_token_file"},
       !c.reward.auth_token_file.empty() && !c.reward.auth_token_env.empty(),
       "set reward.auth_token_file or reward.auth_token_env, not both");
  rule({"cluster.tls_cert_file", "cluster.tls_key_file"},
       c.cluster.tls_cert_file.empty() != c.cluster.tls_key_file.empty(),
       "set cluster.tls_cert_file and cluster.tls_key_file together (a service presents its certificate with its key)");
  rule({"cluster.tls_ca_file", "cluster.tls_cert_file"},
       c.cluster.tls_ca_file.empty() && !c.cluster.tls_cert_file.empty(),
       "cluster.tls_cert_file is set but cluster.tls_ca_file is not: clients need the CA to verify the services "
       "(TLS is on when tls_ca_file is set)");
  rule({"cluster.tls_server_name", "cluster.tls_ca_file"},
       !c.cluster.tls_server_name.empty() && c.cluster.tls_ca_file.empty(),
       "cluster.tls_server_name needs cluster.tls_ca_file (TLS is on when tls_ca_file is set)");
  rule({"cluster.communicator"}, c.cluster.communicator == "nccl" && !build::kWithNccl,
       "cluster.communicator is 'nccl' but this seer was built without NCCL (configure with a CUDA LibTorch and "
       "NCCL, or use 'auto' or 'mpi')");
  rule({"model.device"}, c.model.device == "cuda" && !build::kWithCuda,
       "model.device is 'cuda' but this seer was built without CUDA (use 'auto' or 'cpu')");
  return issues;
}

}  // namespace seer
