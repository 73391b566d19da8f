#include "trainer/policy_loss.h"

#include <ATen/ATen.h>

#include "core/check.h"

namespace seer::trainer {

Aggregation parse_aggregation(const std::string& name) {
  if (name == "token-mean") return Aggregation::kTokenMean;
  if (name == "seq-mean-token-mean") return Aggregation::kSeqMeanTokenMean;
  if (name == "seq-mean-token-sum-norm") return Aggregation::kSeqMeanTokenSumNorm;
  SEER_FAIL("unknown loss aggregation '{}' (token-mean, seq-mean-token-mean, seq-mean-token-sum-norm)", name);
}

namespace {
/// exp(x) − x − 1 as expm1(x) − x: for |x| below ~1e-3, exp(x) rounds to 1 + x in float32 and the plain
/// formula returns rounding noise of either sign (−6e-8 at x = 1e-4); expm1 keeps x's own digits. The clamp
/// removes the last ulp of noise where expm1(x) and x round to neighbours (the true value is >= x²/2 >= 0).
at::Tensor k3(const at::Tensor& x) { return (at::expm1(x) - x).clamp_min(0.0); }
}  // namespace

at::Tensor kl_penalty(const at::Tensor& logp, const at::Tensor& logp_ref, KlEstimator estimator) {
  const at::Tensor x = (logp_ref - logp).clamp(-20.0, 20.0);
  switch (estimator) {
    case KlEstimator::kK1: return -x;
    case KlEstimator::kK2: return 0.5 * x * x;
    case KlEstimator::kK3: return k3(x);
  }
  return k3(x);
}

double aggregation_denominator(const at::Tensor& mask, Aggregation mode) {
  const at::Tensor m = mask.to(at::kBool);
  if (mode == Aggregation::kTokenMean) return m.sum().item<double>();
  return m.any(1).sum().item<double>();
}

at::Tensor aggregate(const at::Tensor& token_loss, const at::Tensor& mask, Aggregation mode, double norm_len,
                     std::optional<double> global_denominator) {
  const at::Tensor m = mask.to(at::kBool).to(token_loss.device());
  const at::Tensor valid = at::where(m, token_loss, at::zeros_like(token_loss));  // select, never multiply
  const double denom = std::max(1.0, global_denominator.value_or(aggregation_denominator(m, mode)));
  if (mode == Aggregation::kTokenMean) return valid.sum() / denom;
  at::Tensor per_seq = valid.sum(1);                                           // (B)
  if (mode == Aggregation::kSeqMeanTokenMean) {
    per_seq = per_seq / m.sum(1).clamp_min(1).to(token_loss.scalar_type());
  } else {
    SEER_CHECK(norm_len > 0, "seq-mean-token-sum-norm needs norm_len > 0, got {}", norm_len);
    per_seq = per_seq / norm_len;
  }
  return at::where(m.any(1), per_seq, at::zeros_like(per_seq)).sum() / denom;  // dead sequences count 0
}

at::Tensor clipped_token_loss(const at::Tensor& logp, const at::Tensor& logp_old, const at::Tensor& advantages,
                              const at::Tensor& mask, const ClipLossOptions& o, const at::Tensor& logp_ref) {
  const at::Tensor m = mask.to(at::kBool).to(logp.device());
  const at::Tensor zero = at::zeros_like(logp);
  // Sanitise every input at masked positions first, so no NaN/inf enters the graph there.
  const at::Tensor lp = at::where(m, logp, zero);
  const at::Tensor lp_old = at::where(m, logp_old.to(logp.dtype()), zero);
  const at::Tensor adv = at::where(m, advantages.to(logp.dtype()).unsqueeze(1).expand_as(logp), zero);
  const at::Tensor ratio = at::exp(lp - lp_old);
  const at::Tensor clipped = ratio.clamp(1.0 - o.eps_low, 1.0 + o.eps_high);
  at::Tensor loss = -at::minimum(ratio * adv, clipped * adv);
  if (o.beta != 0.0) {
    SEER_CHECK(logp_ref.defined(), "clipped_token_loss: beta = {} needs reference log-probs", o.beta);
    loss = loss + o.beta * kl_penalty(lp, at::where(m, logp_ref.to(logp.dtype()), zero), o.kl);
  }
  return at::where(m, loss, zero);
}

}  // namespace seer::trainer
