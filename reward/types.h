// Plain types of the reward contract (../shared/design/rewards.md): answer types, statuses, the input
// of one sample and its score. No gRPC here: the service converts to and from proto/reward.proto.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seer::reward {

enum class AnswerType { kAuto, kNumeric, kMath, kChoice, kText, kBbox };

/// Precedence when several apply: kTruncated, kGoldUnparseable, kNoAnswer, kOk (cases README, convention 1).
enum class Status { kOk, kNoAnswer, kTruncated, kGoldUnparseable, kUnscorable };

/// Frame of a predicted box: pixels of the model input image, 0..1000 of it, or 0..1 of it.
enum class BoxFrame { kAbsolute, kNorm1000, kNorm1 };

std::string_view to_string(AnswerType t);
std::string_view to_string(Status s);
std::string_view to_string(BoxFrame f);
/// "auto", "numeric", ...; nullopt for anything else.
std::optional<AnswerType> parse_answer_type(std::string_view name);
std::optional<BoxFrame> parse_box_frame(std::string_view name);

struct ImageSize {
  double width = 0;   ///< pixels; 0 = unknown
  double height = 0;
};

/// One completion to score.
struct Sample {
  std::string completion;             ///< generated text (cut at `stop` strings here if given)
  std::string prefill;                ///< assistant prefill; scored text = prefill + completion
  bool truncated = false;             ///< hit max_new_tokens without a stop token
  std::string gold;
  AnswerType answer_type = AnswerType::kAuto;
  std::vector<std::string> options;   ///< choice letters; empty = A-E
  std::vector<std::string> stop;      ///< cut the completion at the earliest of these first
  ImageSize original_image;           ///< bbox: frame of the gold
  ImageSize model_input_image;        ///< bbox: frame of the prediction
  std::optional<BoxFrame> box_frame;  ///< nullopt = ScoringOptions::box_frame
  int64_t completion_tokens = 0;      ///< for the length component
  int64_t max_new_tokens = 0;
};

/// How components are computed and combined (from the `reward` config section).
struct ScoringOptions {
  std::map<std::string, double> weights{{"accuracy", 0.9}, {"format", 0.1}};
  double rel_tol = 1e-6;                    ///< numeric/math relative tolerance (contract 2)
  BoxFrame box_frame = BoxFrame::kAbsolute;
  int64_t overlong_buffer_tokens = 0;       ///< length component: DAPO soft overlong window; 0 = off
  double overlong_penalty = 1.0;
  double budget_seconds = 1.0;              ///< per-sample time budget; over it -> kUnscorable
};

/// The score of one sample. When status is kUnscorable, components is empty and total is meaningless.
struct Score {
  Status status = Status::kOk;
  std::map<std::string, double> components;  ///< "accuracy", "format" (, "length")
  double total = 0.0;
  std::string extracted_answer;
  AnswerType resolved_type = AnswerType::kAuto;
  std::string detail;                        ///< why, for kUnscorable / kGoldUnparseable
};

}  // namespace seer::reward
