// Loads ../shared/cases/rewards.jsonl (or $SEER_CASES_DIR/rewards.jsonl) into Samples and expectations.
#pragma once

#include <cstdlib>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reward/types.h"

namespace seer::reward::testing {

struct RewardCase {
  std::string id, why;
  Sample sample;
  double accuracy = 0, format = 0;
  std::string status;
  double time_limit_ms = 0;  ///< 0 = none
};

/// gtest prints the case id and why instead of the object's bytes.
inline void PrintTo(const RewardCase& c, std::ostream* os) { *os << c.id << " (" << c.why << ")"; }

inline std::string cases_dir() {
  const char* env = std::getenv("SEER_CASES_DIR");
  if (env != nullptr && *env != '\0') return env;
  return SEER_DEFAULT_CASES_DIR;
}

inline std::vector<RewardCase> load_reward_cases() {
  std::vector<RewardCase> out;
  const std::string path = cases_dir() + "/rewards.jsonl";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path + " (set SEER_CASES_DIR)");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    RewardCase c;
    c.id = j.at("id");
    c.why = j.value("why", "");
    Sample& s = c.sample;
    s.completion = j.at("completion");
    s.gold = j.at("gold");
    s.answer_type = parse_answer_type(j.value("answer_type", "auto")).value();
    s.prefill = j.value("prefill", "");
    s.truncated = j.value("truncated", false);
    if (j.contains("options")) s.options = j["options"].get<std::vector<std::string>>();
    if (j.contains("stop")) s.stop = j["stop"].get<std::vector<std::string>>();
    if (j.contains("image_size")) s.original_image = {j["image_size"][0], j["image_size"][1]};
    if (j.contains("input_size")) s.model_input_image = {j["input_size"][0], j["input_size"][1]};
    if (j.contains("frame")) s.box_frame = parse_box_frame(j["frame"].get<std::string>()).value();
    c.time_limit_ms = j.value("time_limit_ms", 0.0);
    const auto& e = j.at("expect");
    c.accuracy = e.at("accuracy");
    c.format = e.at("format");
    c.status = e.at("status");
    out.push_back(std::move(c));
  }
  return out;
}

inline std::string case_name(const std::string& id) {
  std::string n;
  for (char c : id) n += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return n;
}

}  // namespace seer::reward::testing
