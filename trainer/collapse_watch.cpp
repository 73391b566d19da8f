#include "trainer/collapse_watch.h"

#include <set>

#include <fmt/format.h>

#include "trainer/grpo_update.h"

namespace seer::trainer {

GroupSignal group_signal(const std::vector<Group>& groups) {
  GroupSignal s;
  double distinct_sum = 0;
  int64_t equal = 0, spread = 0;
  for (const Group& g : groups) {
    if (g.completions.empty()) continue;
    ++s.groups;
    equal += rewards_all_equal(g) ? 1 : 0;
    std::set<std::string> answers;
    bool right = false, wrong = false;
    for (const Completion& c : g.completions) {
      answers.insert(c.answer);
      auto it = c.components.find("accuracy");
      const double acc = it == c.components.end() ? 0.0 : it->second;
      (acc >= 1.0 ? right : wrong) = true;
    }
    distinct_sum += static_cast<double>(answers.size());
    spread += right && wrong ? 1 : 0;
  }
  if (s.groups > 0) {
    const double n = static_cast<double>(s.groups);
    s.equal_reward_fraction = static_cast<double>(equal) / n;
    s.distinct_answers_mean = distinct_sum / n;
    s.accuracy_spread = static_cast<double>(spread) / n;
  }
  return s;
}

std::vector<std::string> CollapseWatch::check(int64_t step, double entropy, const GroupSignal& signal) {
  std::vector<std::string> out;
  auto due = [&](bool active, int64_t& since) {
    if (!active) {
      since = -1;
      return false;
    }
    if (since >= 0 && step - since < o_.warn_every_steps) return false;
    since = step;
    return true;
  };
  if (due(o_.entropy_floor > 0 && entropy < o_.entropy_floor, entropy_since_)) {
    out.push_back(fmt::format("step {}: policy entropy {:.4f} nats/token is below the floor {:.4f} "
                              "(metrics.entropy_floor): the policy is collapsing onto a few answers; "
                              "consider algorithm.entropy_coef, a higher temperature or a lower lr",
                              step, entropy, o_.entropy_floor));
  }
  if (due(signal.groups > 0 && signal.equal_reward_fraction > o_.no_signal_fraction && o_.no_signal_fraction < 1.0,
          signal_since_)) {
    out.push_back(fmt::format("step {}: {:.0f}% of groups have equal rewards and carry no learning signal "
                              "(metrics.no_signal_fraction {:.2f}; {:.2f} distinct answers per group): "
                              "consider algorithm.dynamic_sampling or a larger rollout.group_size",
                              step, 100.0 * signal.equal_reward_fraction, o_.no_signal_fraction,
                              signal.distinct_answers_mean));
  }
  return out;
}

}  // namespace seer::trainer
