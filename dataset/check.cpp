#include "dataset/check.h"

#include <algorithm>
#include <filesystem>

#include "core/check.h"
#include "model/image_decode.h"
#include "reward/scorer.h"

namespace seer::dataset {

std::string image_problem(const std::string& path, const model::DecodeLimits& limits) {
  try {
    (void)model::decode_image_file(path, model::AlphaMode::kWhite, limits);  // the same decoder training uses: what passes here, trains
    return "";
  } catch (const Error& e) {
    return std::string("image ") + e.what();
  }
}

std::string row_gold_problem(const Row& row, std::string* resolved) {
  reward::Sample s;
  s.gold = row.answer;
  s.answer_type = reward::parse_answer_type(row.answer_type).value_or(reward::AnswerType::kAuto);
  s.options = row.options;
  reward::AnswerType type = reward::AnswerType::kAuto;
  std::string why = reward::gold_problem(s, &type);
  if (resolved != nullptr) *resolved = std::string(reward::to_string(type));
  return why;
}

CheckReport check_dataset(const std::string& path, const ReadOptions& options, const model::DecodeLimits& limits) {
  const Dataset d = read_jsonl_all(path, options);
  CheckReport r;
  std::vector<std::pair<int, std::string>> problems;
  for (const auto& b : d.bad) problems.emplace_back(b.line, b.message);
  for (const Row& row : d.rows) {
    const std::string where = path + ":" + std::to_string(row.line) + ": ";
    std::string why;
    for (const std::string& image : row.images) {
      if (why.empty()) why = image_problem(image, limits);
    }
    std::string type = "conversation";
    if (why.empty() && !row.is_conversation()) why = row_gold_problem(row, &type);
    if (!why.empty()) {
      problems.emplace_back(row.line, where + why);
      continue;
    }
    ++r.rows;
    r.images += static_cast<int>(row.images.size());
    (row.is_conversation() ? r.sft_rows : r.rl_rows) += 1;
    ++r.answer_types[type];
  }
  std::stable_sort(problems.begin(), problems.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& p : problems) r.problems.push_back(std::move(p.second));
  return r;
}

}  // namespace seer::dataset
