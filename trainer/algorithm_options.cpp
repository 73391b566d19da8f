#include "trainer/algorithm_options.h"

#include "core/check.h"

namespace seer::trainer {

AdvantageOptions advantage_options(const AlgorithmConfig& a) {
  AdvantageOptions o;
  if (a.advantage == "grpo") o.estimator = AdvantageEstimator::kGrpo;
  else if (a.advantage == "rloo") o.estimator = AdvantageEstimator::kRloo;
  else if (a.advantage == "reinforce_pp_baseline") o.estimator = AdvantageEstimator::kReinforcePlusPlusBaseline;
  else SEER_FAIL("algorithm.advantage: unknown estimator '{}' (grpo, rloo, reinforce_pp_baseline)", a.advantage);
  SEER_CHECK(a.scale == "std" || a.scale == "none", "algorithm.scale: '{}' is not std or none", a.scale);
  o.scale_by_std = a.scale == "std";
  return o;
}

PolicyUpdateOptions policy_update_options(const ExperimentConfig& c, int64_t pad_id) {
  PolicyUpdateOptions o;
  o.clip.eps_low = c.algorithm.eps_low;
  o.clip.eps_high = c.algorithm.eps_high;
  o.clip.beta = c.algorithm.kl_coef;
  const auto& k = c.algorithm.kl_estimator;
  SEER_CHECK(k == "k1" || k == "k2" || k == "k3", "algorithm.kl_estimator: '{}' is not k1, k2 or k3", k);
  o.clip.kl = k == "k1" ? KlEstimator::kK1 : k == "k2" ? KlEstimator::kK2 : KlEstimator::kK3;
  o.kl_in_reward = c.algorithm.kl_in == "reward";
  o.advantage = advantage_options(c.algorithm);
  o.aggregation = parse_aggregation(c.algorithm.loss_aggregation);
  o.sequence_level_ratio = c.algorithm.sequence_level_ratio;
  o.ppo_epochs = c.algorithm.ppo_epochs;
  o.mini_batches = c.algorithm.mini_batches;
  o.micro_batch_size = c.trainer.micro_batch_size;
  o.temperature = c.rollout.temperature > 0 ? c.rollout.temperature : 1.0;
  o.norm_len = static_cast<double>(c.rollout.max_new_tokens);
  o.entropy_coef = c.algorithm.entropy_coef;
  o.max_grad_norm = c.trainer.max_grad_norm;
  o.bucket_bytes = c.trainer.allreduce_bucket_bytes;
  // A trained vision tower drifts from the reference's, so the reference then needs its own vision pass.
  o.reference_shares_vision =
      c.model.freeze_vision_tower && (c.model.reference_path.empty() || c.model.reference_path == c.model.path);
  o.share_prompts = c.trainer.share_prompts;
  o.pad_id = pad_id;
  return o;
}

}  // namespace seer::trainer
