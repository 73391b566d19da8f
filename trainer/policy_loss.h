// The policy loss (../shared/design/rewards.md section 6). Legend: B sequences, T tokens.
// Masking is by select, never by multiply, so a NaN at a masked position reaches neither the loss nor a
// gradient; every denominator is floored at 1 (an all-masked micro-batch gives loss 0 and zero gradients).
#pragma once

#include <optional>
#include <string>

#include <ATen/core/Tensor.h>

namespace seer::trainer {

enum class Aggregation { kTokenMean, kSeqMeanTokenMean, kSeqMeanTokenSumNorm };
enum class KlEstimator { kK1, kK2, kK3 };

/// "token-mean" | "seq-mean-token-mean" | "seq-mean-token-sum-norm"; throws seer::Error otherwise.
Aggregation parse_aggregation(const std::string& name);

/// Per-token KL estimate of the policy from the reference (Schulman 2020, "Approximating KL divergence"),
/// x = logp_ref − logp clamped to [−20, 20] before exp: k1 = −x, k2 = x²/2, k3 = exp(x) − x − 1, computed as
/// expm1(x) − x (finite; k2 and k3 ≥ 0 for every input, tiny |x| in float32 included; exactly 0 when the policy
/// equals the reference; zero gradient where the clamp is active). k1 is signed per token by definition (its
/// expectation under the policy is the KL).
/// logp, logp_ref (B, T) any float dtype; returns (B, T).
at::Tensor kl_penalty(const at::Tensor& logp, const at::Tensor& logp_ref, KlEstimator estimator = KlEstimator::kK3);

/// The denominator of `aggregate` for `mask` (B, T): valid tokens (token-mean) or live sequences (the
/// seq-mean modes). Sum it over ranks (all-reduce) to normalise by the global count.
double aggregation_denominator(const at::Tensor& mask, Aggregation mode);

/// Aggregates token_loss (B, T) over mask (B, T) (bool or {0,1}): token-mean = Σ valid / max(1, #valid);
/// seq-mean-token-mean = Σ over live sequences of (Σ valid / #valid in it) / max(1, #live);
/// seq-mean-token-sum-norm = Σ over live sequences of (Σ valid / norm_len) / max(1, #live).
/// `global_denominator` replaces the local count (multi-rank: the all-reduced aggregation_denominator);
/// each rank's result is then its share of the global loss and the shares sum to it.
at::Tensor aggregate(const at::Tensor& token_loss, const at::Tensor& mask, Aggregation mode, double norm_len = 1.0,
                     std::optional<double> global_denominator = std::nullopt);

struct ClipLossOptions {
  double eps_low = 0.2, eps_high = 0.2;  ///< clip range [1 − eps_low, 1 + eps_high] (DAPO clip-higher)
  double beta = 0.0;                     ///< KL coefficient; 0 ignores logp_ref
  KlEstimator kl = KlEstimator::kK3;
};

/// Per-token clipped surrogate (Schulman et al. 2017, PPO eq. 7; GRPO eq. 3):
/// −min(ρA, clip(ρ, 1−ε_low, 1+ε_high)A) + β·KL, ρ = exp(logp − logp_old). logp, logp_old, logp_ref (B, T);
/// advantages (B) broadcast over each sequence's tokens; mask (B, T). Masked positions are exactly 0 and
/// get zero gradient whatever their inputs (NaN advantages of fully masked sequences included).
at::Tensor clipped_token_loss(const at::Tensor& logp, const at::Tensor& logp_old, const at::Tensor& advantages,
                              const at::Tensor& mask, const ClipLossOptions& options, const at::Tensor& logp_ref = {});

}  // namespace seer::trainer
