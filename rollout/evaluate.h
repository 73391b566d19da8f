// Evaluation of a policy on RL-style rows ({"image", "problem", "solution"}): prompts built exactly as the
// rollout workers build them, completions generated greedily (or sampled k times for pass@k), scored by
// the same reward scorers as training. Reports accuracy, format rate and mean reward overall and per
// answer type.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "dataset/row.h"
#include "rollout/answer_stats.h"
#include "reward/types.h"

namespace seer::model {
class ModelInputs;
class Vlm;
}  // namespace seer::model

namespace seer::rollout {

struct EvalOptions {
  int64_t batch_size = 16;        ///< prompts per generation call
  int64_t max_new_tokens = 256;
  int64_t samples = 1;            ///< k: 1 = greedy; > 1 = sampled pass@k at `temperature`
  double temperature = 1.0;
  uint64_t seed = 1;
  reward::ScoringOptions scoring;
};

struct EvalTotals {
  int64_t rows = 0;
  int64_t skipped = 0;            ///< rows whose prompt or image could not be built (logged with the reason)
  double accuracy = 0;            ///< greedy (k = 1) or mean over samples of the accuracy component
  double pass_at_k = 0;           ///< fraction of rows with at least one accurate sample
  double format = 0;              ///< mean format component
  double reward = 0;              ///< mean total reward
  double completion_tokens = 0;   ///< mean generated tokens
};

struct EvalSample {
  std::string id;
  std::string gold;
  std::string completion;
  std::string extracted;
  double accuracy = 0, format = 0, reward = 0;
  std::string status;
};

struct EvalReport {
  EvalTotals overall;
  std::map<std::string, EvalTotals> by_type;  ///< resolved answer type -> totals
  std::vector<EvalSample> samples;            ///< first sample of each row
  AnswerStats answers;                        ///< of the first samples: majority baseline, histograms, per class
  double seconds = 0;
};

/// Evaluates `rows` (RL rows; conversation rows are refused). `progress` (may be empty) is called after
/// each batch with rows done and total. Never throws for one bad row: it is skipped and counted.
EvalReport evaluate(model::Vlm& model, const model::ModelInputs& inputs, const std::vector<dataset::Row>& rows,
                    const EvalOptions& options, const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace seer::rollout
