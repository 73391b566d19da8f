// Signs of policy collapse, measured per learner step (issue 15): how many groups carry no learning signal
// (all rewards equal, so every advantage is 0), how many distinct answers a group's G samples give, and a
// rate-limited warning when the token entropy falls below a floor or most groups carry no signal. A policy
// that answers the label prior for every image shows all three long before its mean reward stops rising.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace seer::trainer {

struct Group;

/// Per-step statistics of the groups a learner step trained on.
struct GroupSignal {
  int64_t groups = 0;
  double equal_reward_fraction = 0;  ///< groups whose scored rewards are all equal (no signal), in [0, 1]
  double distinct_answers_mean = 0;  ///< mean over groups of the number of distinct extracted answers (none counts once)
  double accuracy_spread = 0;        ///< fraction of groups with both a correct and a wrong sample
};

/// Computes GroupSignal over `groups` (Completion::answer is the extracted answer, "" = none;
/// Completion::components["accuracy"] the accuracy component). Empty input gives zeros.
GroupSignal group_signal(const std::vector<Group>& groups);

struct CollapseOptions {
  double entropy_floor = 0.0;         ///< warn when the step's mean token entropy (nats) is below this; 0 = off
  double no_signal_fraction = 1.0;    ///< warn when more than this fraction of groups has equal rewards; 1 = off
  int64_t warn_every_steps = 10;      ///< while a condition persists, repeat its warning this often
};

/// Decides when to warn. Stateless apart from when each condition last warned, so a condition that clears
/// and comes back warns again at once.
class CollapseWatch {
 public:
  explicit CollapseWatch(CollapseOptions options) : o_(options) {}

  /// The warnings (zero, one or two lines) for learner step `step` (1-based).
  std::vector<std::string> check(int64_t step, double entropy, const GroupSignal& signal);

 private:
  CollapseOptions o_;
  int64_t entropy_since_ = -1, signal_since_ = -1;  ///< step the condition last warned; -1 = not active
};

}  // namespace seer::trainer
