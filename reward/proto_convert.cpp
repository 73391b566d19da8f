#include "reward/proto_convert.h"

namespace seer::reward {
namespace {

v1::AnswerType to_proto(AnswerType t) {
  switch (t) {
    case AnswerType::kAuto: return v1::ANSWER_TYPE_AUTO;
    case AnswerType::kNumeric: return v1::ANSWER_TYPE_NUMERIC;
    case AnswerType::kMath: return v1::ANSWER_TYPE_MATH;
    case AnswerType::kChoice: return v1::ANSWER_TYPE_CHOICE;
    case AnswerType::kText: return v1::ANSWER_TYPE_TEXT;
    case AnswerType::kBbox: return v1::ANSWER_TYPE_BBOX;
  }
  return v1::ANSWER_TYPE_AUTO;
}

AnswerType from_proto(v1::AnswerType t) {
  switch (t) {
    case v1::ANSWER_TYPE_NUMERIC: return AnswerType::kNumeric;
    case v1::ANSWER_TYPE_MATH: return AnswerType::kMath;
    case v1::ANSWER_TYPE_CHOICE: return AnswerType::kChoice;
    case v1::ANSWER_TYPE_TEXT: return AnswerType::kText;
    case v1::ANSWER_TYPE_BBOX: return AnswerType::kBbox;
    default: return AnswerType::kAuto;
  }
}

v1::Status to_proto(Status s) {
  switch (s) {
    case Status::kOk: return v1::STATUS_OK;
    case Status::kNoAnswer: return v1::STATUS_NO_ANSWER;
    case Status::kTruncated: return v1::STATUS_TRUNCATED;
    case Status::kGoldUnparseable: return v1::STATUS_GOLD_UNPARSEABLE;
    case Status::kUnscorable: return v1::STATUS_UNSCORABLE;
  }
  return v1::STATUS_UNSCORABLE;
}

Status from_proto(v1::Status s) {
  switch (s) {
    case v1::STATUS_OK: return Status::kOk;
    case v1::STATUS_NO_ANSWER: return Status::kNoAnswer;
    case v1::STATUS_TRUNCATED: return Status::kTruncated;
    case v1::STATUS_GOLD_UNPARSEABLE: return Status::kGoldUnparseable;
    default: return Status::kUnscorable;  // an unknown status is never read as a score
  }
}

}  // namespace

Sample from_proto(const v1::Sample& p) {
  Sample s;
  s.completion = p.completion();
  s.prefill = p.prefill();
  s.truncated = p.truncated();
  s.gold = p.gold();
  s.answer_type = from_proto(p.answer_type());
  s.options.assign(p.options().begin(), p.options().end());
  s.stop.assign(p.stop().begin(), p.stop().end());
  s.completion_tokens = p.completion_tokens();
  s.max_new_tokens = p.max_new_tokens();
  s.original_image = {static_cast<double>(p.original_image().width_pixels()),
                      static_cast<double>(p.original_image().height_pixels())};
  s.model_input_image = {static_cast<double>(p.model_input_image().width_pixels()),
                         static_cast<double>(p.model_input_image().height_pixels())};
  switch (p.box_frame()) {
    case v1::BOX_FRAME_ABSOLUTE: s.box_frame = BoxFrame::kAbsolute; break;
    case v1::BOX_FRAME_NORM1000: s.box_frame = BoxFrame::kNorm1000; break;
    case v1::BOX_FRAME_NORM1: s.box_frame = BoxFrame::kNorm1; break;
    default: break;
  }
  return s;
}

void to_proto(const Sample& s, v1::Sample* p) {
  p->set_completion(s.completion);
  p->set_prefill(s.prefill);
  p->set_truncated(s.truncated);
  p->set_gold(s.gold);
  p->set_answer_type(to_proto(s.answer_type));
  for (const auto& o : s.options) p->add_options(o);
  for (const auto& x : s.stop) p->add_stop(x);
  p->set_completion_tokens(static_cast<uint32_t>(std::max<int64_t>(0, s.completion_tokens)));
  p->set_max_new_tokens(static_cast<uint32_t>(std::max<int64_t>(0, s.max_new_tokens)));
  p->mutable_original_image()->set_width_pixels(static_cast<uint32_t>(s.original_image.width));
  p->mutable_original_image()->set_height_pixels(static_cast<uint32_t>(s.original_image.height));
  p->mutable_model_input_image()->set_width_pixels(static_cast<uint32_t>(s.model_input_image.width));
  p->mutable_model_input_image()->set_height_pixels(static_cast<uint32_t>(s.model_input_image.height));
  if (s.box_frame) {
    p->set_box_frame(*s.box_frame == BoxFrame::kAbsolute   ? v1::BOX_FRAME_ABSOLUTE
                     : *s.box_frame == BoxFrame::kNorm1000 ? v1::BOX_FRAME_NORM1000
                                                           : v1::BOX_FRAME_NORM1);
  }
}

void to_proto(const Score& s, v1::Result* p) {
  p->set_status(to_proto(s.status));
  for (const auto& [name, value] : s.components) {
    auto* c = p->add_components();
    c->set_name(name);
    c->set_value(value);
  }
  p->set_total(s.total);
  p->set_extracted_answer(s.extracted_answer);
  p->set_resolved_type(to_proto(s.resolved_type));
  p->set_detail(s.detail);
}

Score from_proto(const v1::Result& p) {
  Score s;
  s.status = from_proto(p.status());
  for (const auto& c : p.components()) s.components[c.name()] = c.value();
  s.total = p.total();
  s.extracted_answer = p.extracted_answer();
  s.resolved_type = from_proto(p.resolved_type());
  s.detail = p.detail();
  return s;
}

}  // namespace seer::reward
