// Statistics that tell a skill from a label prior in an evaluation (issue 15): the majority-answer baseline
// of the split, the predicted-answer histogram next to the gold one and their total variation distance,
// and accuracy per gold answer (per class). Pure functions of (gold, prediction, correct) records.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace seer::rollout {

/// One evaluated row: its gold answer, the model's extracted answer ("" = none) and whether the reward's
/// accuracy component called it correct (the scorer decides equality: "3.0" may equal gold "3").
struct AnswerRecord {
  std::string gold;
  std::string predicted;
  bool correct = false;
};

/// Per gold answer (class).
struct ClassStats {
  int64_t rows = 0;       ///< rows whose gold answer is this
  int64_t correct = 0;    ///< of those, answered correctly
  int64_t predicted = 0;  ///< rows (of any gold) whose prediction counts as this answer
  double accuracy() const { return rows > 0 ? static_cast<double>(correct) / static_cast<double>(rows) : 0.0; }
};

struct AnswerStats {
  int64_t rows = 0;
  std::string majority_answer;    ///< most common gold answer (ties: the smallest string)
  double majority_baseline = 0;   ///< accuracy of always answering majority_answer = its share of the rows
  std::map<std::string, int64_t> gold_histogram;       ///< gold answer -> rows
  std::map<std::string, int64_t> predicted_histogram;  ///< prediction key -> rows (see prediction_key)
  std::map<std::string, ClassStats> per_answer;        ///< gold answer -> rows, correct, predicted
  double total_variation = 0;     ///< 0.5 * sum_a |P_gold(a) - P_pred(a)|, in [0, 1]
  double balanced_accuracy = 0;   ///< mean over gold answers of their accuracy
};

/// The histogram key of a prediction: the gold answer when it was scored correct (so "3.0" and "3" fall
/// together), "(none)" when there was no answer, else the extracted answer as written.
std::string prediction_key(const AnswerRecord& r);

/// Computes the statistics of `records` (one per row). Empty input gives all zeros.
AnswerStats answer_stats(const std::vector<AnswerRecord>& records);

}  // namespace seer::rollout
