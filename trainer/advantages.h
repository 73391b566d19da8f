// Group-normalised advantages (../shared/design/rewards.md section 5): groups by prompt id (never by
// position), statistics over scored samples only, in float64.
//   grpo:                  A_i = (r_i − mean) / (std + 1e-6), population std (Shao et al. 2024, DeepSeekMath, eq. 3)
//   scale none (Dr.GRPO):  A_i = r_i − mean (Liu et al. 2025, "Understanding R1-Zero-Like Training", sec. 3.1)
//   rloo:                  A_i = r_i − mean of the other scored samples (Ahmadian et al. 2024, eq. 5)
//   reinforce_pp_baseline: A_i = r_i − group mean, then divided by the std of all such values in the batch
//                          (Hu et al. 2025, REINFORCE++, "baseline" variant)
// A group with fewer than 2 scored samples, or with std < 1e-3 · max(1, |mean|), gets exactly 0 everywhere.
// Unscored samples (nullopt, NaN or ±inf rewards: UNSCORABLE) always get 0.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace seer::trainer {

enum class AdvantageEstimator { kGrpo, kRloo, kReinforcePlusPlusBaseline };

struct AdvantageOptions {
  AdvantageEstimator estimator = AdvantageEstimator::kGrpo;
  bool scale_by_std = true;  ///< false = `scale: none`
};

/// One advantage per sample, in input order. Throws seer::Error when the two lists differ in length.
std::vector<double> compute_advantages(const std::vector<std::string>& group_ids,
                                       const std::vector<std::optional<double>>& rewards,
                                       const AdvantageOptions& options = {});

}  // namespace seer::trainer
