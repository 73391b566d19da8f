#include "rollout/answer_stats.h"

#include <cmath>
#include <set>

namespace seer::rollout {

std::string prediction_key(const AnswerRecord& r) {
  if (r.correct) return r.gold;
  return r.predicted.empty() ? std::string("(none)") : r.predicted;
}

AnswerStats answer_stats(const std::vector<AnswerRecord>& records) {
  AnswerStats s;
  s.rows = static_cast<int64_t>(records.size());
  if (records.empty()) return s;
  for (const AnswerRecord& r : records) {
    ++s.gold_histogram[r.gold];
    const std::string key = prediction_key(r);
    ++s.predicted_histogram[key];
    ClassStats& c = s.per_answer[r.gold];
    ++c.rows;
    c.correct += r.correct ? 1 : 0;
  }
  for (const auto& [key, n] : s.predicted_histogram) {
    auto it = s.per_answer.find(key);
    if (it != s.per_answer.end()) it->second.predicted = n;
  }
  int64_t best = 0;
  for (const auto& [answer, n] : s.gold_histogram) {
    if (n > best) {  // strict: the first (smallest) answer wins a tie
      best = n;
      s.majority_answer = answer;
    }
  }
  const double total = static_cast<double>(s.rows);
  s.majority_baseline = static_cast<double>(best) / total;
  std::set<std::string> keys;
  for (const auto& [k, n] : s.gold_histogram) keys.insert(k);
  for (const auto& [k, n] : s.predicted_histogram) keys.insert(k);
  double tv = 0;
  for (const std::string& k : keys) {
    auto g = s.gold_histogram.find(k);
    auto p = s.predicted_histogram.find(k);
    const double pg = g == s.gold_histogram.end() ? 0.0 : static_cast<double>(g->second) / total;
    const double pp = p == s.predicted_histogram.end() ? 0.0 : static_cast<double>(p->second) / total;
    tv += std::abs(pg - pp);
  }
  s.total_variation = 0.5 * tv;
  double acc_sum = 0;
  for (const auto& [k, c] : s.per_answer) acc_sum += c.accuracy();
  s.balanced_accuracy = acc_sum / static_cast<double>(s.per_answer.size());
  return s;
}

}  // namespace seer::rollout
