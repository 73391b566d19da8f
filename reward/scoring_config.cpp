#include "reward/scoring_config.h"

#include "core/check.h"

namespace seer::reward {

ScoringOptions scoring_options(const ExperimentConfig& c) {
  ScoringOptions o;
  o.weights = c.reward.weights;
  o.rel_tol = c.reward.numeric_rel_tol;
  const auto frame = parse_box_frame(c.reward.bbox_frame);
  SEER_CHECK(frame.has_value(), "reward.bbox_frame: unknown frame '{}'", c.reward.bbox_frame);
  o.box_frame = *frame;
  o.overlong_buffer_tokens = c.algorithm.overlong_buffer_tokens;
  o.overlong_penalty = c.algorithm.overlong_penalty;
  o.budget_seconds = c.reward.sample_budget_seconds;
  return o;
}

}  // namespace seer::reward
