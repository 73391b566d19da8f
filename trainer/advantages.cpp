#include "trainer/advantages.h"

#include <cmath>
#include <map>

#include "core/check.h"

namespace seer::trainer {

std::vector<double> compute_advantages(const std::vector<std::string>& group_ids,
                                       const std::vector<std::optional<double>>& rewards,
                                       const AdvantageOptions& options) {
  SEER_CHECK(group_ids.size() == rewards.size(), "advantages: {} group ids for {} rewards", group_ids.size(),
             rewards.size());
  std::map<std::string, std::vector<size_t>> groups;  // scored members of each group
  for (size_t i = 0; i < rewards.size(); ++i) {
    if (rewards[i].has_value() && std::isfinite(*rewards[i])) groups[group_ids[i]].push_back(i);
  }
  std::vector<double> adv(rewards.size(), 0.0);
  std::vector<size_t> centred;  // samples whose (r − mean) is in adv, for the batch-wide REINFORCE++ std
  for (const auto& [id, members] : groups) {
    const double n = static_cast<double>(members.size());
    if (members.size() < 2) continue;
    double mean = 0;
    for (size_t i : members) mean += *rewards[i];
    mean /= n;
    double var = 0;
    for (size_t i : members) var += (*rewards[i] - mean) * (*rewards[i] - mean);
    const double stdev = std::sqrt(var / n);
    if (stdev < 1e-3 * std::max(1.0, std::fabs(mean))) continue;  // degenerate group: no signal
    for (size_t i : members) {
      const double r = *rewards[i];
      switch (options.estimator) {
        case AdvantageEstimator::kGrpo:
          adv[i] = options.scale_by_std ? (r - mean) / (stdev + 1e-6) : r - mean;
          break;
        case AdvantageEstimator::kRloo:
          adv[i] = r - (mean * n - r) / (n - 1);
          break;
        case AdvantageEstimator::kReinforcePlusPlusBaseline:
          adv[i] = r - mean;
          centred.push_back(i);
          break;
      }
    }
  }
  if (options.estimator == AdvantageEstimator::kReinforcePlusPlusBaseline && options.scale_by_std && centred.size() > 1) {
    double mean = 0, var = 0;
    for (size_t i : centred) mean += adv[i];
    mean /= static_cast<double>(centred.size());
    for (size_t i : centred) var += (adv[i] - mean) * (adv[i] - mean);
    const double stdev = std::sqrt(var / static_cast<double>(centred.size()));
    for (size_t i : centred) adv[i] = (adv[i] - mean) / (stdev + 1e-6);
  }
  return adv;
}

}  // namespace seer::trainer
