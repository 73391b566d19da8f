// The GRPO-family policy update of one learner step on this rank's share of the scored groups
// (../shared/design/rewards.md sections 5-6): advantages, old log-probs, reference log-probs, then
// `ppo_epochs` x `mini_batches` optimizer steps of the clipped objective, gradients all-reduced in buckets
// and clipped by global norm. Every rank makes the same collectives whatever its data (a rank with no
// groups contributes zeros); loss denominators are global counts, so N ranks on N shares produce the
// update of one rank on the whole batch.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "trainer/advantages.h"
#include "trainer/communicator.h"
#include "trainer/gradient_reducer.h"
#include "trainer/policy_loss.h"

namespace seer::model { class Vlm; }

namespace seer::trainer {

class AdamW;

struct Completion {
  std::vector<int32_t> tokens;          ///< generated ids (the stop token included)
  std::vector<float> rollout_logprobs;  ///< the rollout's log-prob of each token (empty = unknown)
  std::optional<double> reward;         ///< total reward; nullopt = unscorable (advantage 0, never trained on)
  double advantage = 0.0;               ///< set by assign_advantages
  int64_t weight_version = 0;           ///< policy version that generated it
  bool truncated = false;               ///< reached max_new_tokens
  std::map<std::string, double> components;  ///< reward components (accuracy, format, ...) when scored
  std::string status;                   ///< reward status name (ok, no_answer, truncated, unscorable, ...)
  std::string answer;                   ///< the reward's extracted answer ("" = none)
};

/// The G completions of one prompt.
struct Group {
  std::string prompt_id;
  std::vector<int32_t> prompt;  ///< prompt ids, image placeholders expanded
  std::vector<at::Tensor> pixel_values;  ///< one (1, ...) float32 tensor per image, in prompt order (vlm.h); empty = text only
  std::vector<std::string> images;       ///< image paths the rollout used (none = text only); the learner recomputes pixel_values
  std::vector<Completion> completions;
  int64_t mini_batch = 0;       ///< which mini-batch of the step it belongs to (assign_mini_batches)
  int32_t rollout_threads = 0;  ///< intra-op threads the worker generated with (0 = not reported)
  double generate_seconds = 0;  ///< the group's share of its generation call's wall time (rollout tokens/s)
};

/// Advantages over the whole step's batch (groups by prompt id), written into each completion.
void assign_advantages(std::vector<Group>& groups, const AdvantageOptions& options);

/// Splits the step's whole batch into `mini_batches` contiguous runs of groups (sizes differing by at most
/// one) and records each group's run. Done on the global batch before it is shared out, so that mini-batch
/// m is the same set of groups whatever the number of ranks.
void assign_mini_batches(std::vector<Group>& groups, int64_t mini_batches);

/// True when every scored completion of `group` has the same reward (no learning signal: DAPO dynamic
/// sampling drops such groups).
bool rewards_all_equal(const Group& group);

struct PolicyUpdateOptions {
  ClipLossOptions clip;                 ///< eps_low/high, beta (0 = no reference pass), KL estimator
  bool kl_in_reward = false;            ///< KL as a reward penalty instead of a loss term (algorithm.kl_in: reward):
                                        ///< r_i - beta * sum_t KL_t, then advantages again (`advantage` options)
  AdvantageOptions advantage;           ///< used when kl_in_reward recomputes advantages
  Aggregation aggregation = Aggregation::kTokenMean;
  bool sequence_level_ratio = false;    ///< GSPO (Zheng et al. 2025, eq. 7): ratio = exp(mean token log-ratio)
  int64_t ppo_epochs = 1;
  int64_t mini_batches = 1;             ///< optimizer steps per epoch
  int64_t micro_batch_size = 4;         ///< sequences per forward/backward
  double temperature = 1.0;             ///< log-probs of logits / temperature, as sampled
  double entropy_coef = 0.0;            ///< entropy bonus: token loss − coef · H_t, aggregated like the loss
                                        ///< (the entropy regulariser of Williams & Peng 1991 / A3C; 0 = off)
  double norm_len = 1.0;                ///< seq-mean-token-sum-norm constant (max_new_tokens)
  double max_grad_norm = 1.0;
  int64_t bucket_bytes = 25 << 20;
  GradientReducer* reducer = nullptr;  ///< overlapped all-reduce (trainer.overlap_allreduce); null = after backward
  bool reference_shares_vision = true;  ///< reference has the policy's frozen vision tower: reuse its features
  bool share_prompts = true;            ///< each group's prompt once per micro-batch (model::SharedPrompts); the
                                        ///< policy pass shares only without gradient checkpointing
  int64_t pad_id = 0;
};

struct PolicyUpdateStats {  ///< global (all ranks) values of the step
  double loss = 0, kl = 0, entropy = 0, clip_fraction = 0;  ///< token means (loss: sum of mini-batch losses / count)
  double grad_norm = 0;             ///< before clipping, last optimizer step
  double logprob_mismatch = 0;      ///< mean |learner old log-prob − rollout log-prob| (tokens with a rollout value)
  double tokens = 0, sequences = 0;
  double padding_fraction = 0;      ///< padding positions / all positions the passes compute (after length bucketing;
                                    ///< a shared prompt counts once)
  int64_t optimizer_steps = 0;
  double seconds_old = 0, seconds_ref = 0, seconds_update = 0, seconds_allreduce = 0;
  double allreduce_bus_bandwidth = 0;  ///< bytes/s (0 for a world of one)
};

/// Runs the update. `local` are this rank's groups (advantages already assigned). `reference` == &policy
/// means the policy without its LoRA adapters (model::AdaptersOff around the reference pass). Throws seer::Error on
/// inconsistent input (e.g. rollout log-probs of the wrong length).
PolicyUpdateStats policy_update(model::Vlm& policy, model::Vlm* reference, AdamW& optimizer, Communicator& comm,
                                const std::vector<Group>& local, const PolicyUpdateOptions& options);

}  // namespace seer::trainer
