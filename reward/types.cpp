#include "reward/types.h"

namespace seer::reward {

std::string_view to_string(AnswerType t) {
  switch (t) {
    case AnswerType::kAuto: return "auto";
    case AnswerType::kNumeric: return "numeric";
    case AnswerType::kMath: return "math";
    case AnswerType::kChoice: return "choice";
    case AnswerType::kText: return "text";
    case AnswerType::kBbox: return "bbox";
  }
  return "auto";
}

std::string_view to_string(Status s) {
  switch (s) {
    case Status::kOk: return "OK";
    case Status::kNoAnswer: return "NO_ANSWER";
    case Status::kTruncated: return "TRUNCATED";
    case Status::kGoldUnparseable: return "GOLD_UNPARSEABLE";
    case Status::kUnscorable: return "UNSCORABLE";
  }
  return "UNSCORABLE";
}

std::string_view to_string(BoxFrame f) {
  switch (f) {
    case BoxFrame::kAbsolute: return "absolute";
    case BoxFrame::kNorm1000: return "norm1000";
    case BoxFrame::kNorm1: return "norm1";
  }
  return "absolute";
}

std::optional<AnswerType> parse_answer_type(std::string_view name) {
  for (AnswerType t : {AnswerType::kAuto, AnswerType::kNumeric, AnswerType::kMath, AnswerType::kChoice,
                       AnswerType::kText, AnswerType::kBbox}) {
    if (to_string(t) == name) return t;
  }
  return std::nullopt;
}

std::optional<BoxFrame> parse_box_frame(std::string_view name) {
  for (BoxFrame f : {BoxFrame::kAbsolute, BoxFrame::kNorm1000, BoxFrame::kNorm1}) {
    if (to_string(f) == name) return f;
  }
  return std::nullopt;
}

}  // namespace seer::reward
