#include "rollout/completion.h"

#include <ATen/ATen.h>

#include "model/inputs.h"
#include "model/tokenizer.h"

namespace seer::rollout {

std::vector<int32_t> completion_ids(const model::Generation& gen, int64_t r) {
  const int64_t len = gen.lengths[static_cast<size_t>(r)];
  const at::Tensor toks = gen.tokens[r].narrow(0, 0, len).contiguous();
  return std::vector<int32_t>(toks.data_ptr<int64_t>(), toks.data_ptr<int64_t>() + len);
}

std::vector<float> completion_logprobs(const model::Generation& gen, int64_t r) {
  const int64_t len = gen.lengths[static_cast<size_t>(r)];
  const at::Tensor lp = gen.logprobs[r].narrow(0, 0, len).to(at::kFloat).contiguous();
  return std::vector<float>(lp.data_ptr<float>(), lp.data_ptr<float>() + len);
}

size_t cut_at_stop_strings(const model::Tokenizer& tokenizer, const std::vector<int32_t>& ids,
                           const std::vector<std::string>& stops) {
  auto contains_stop = [&](size_t n) {
    const std::string text = tokenizer.decode(std::vector<int32_t>(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n)), true);
    for (const auto& stop : stops) {
      if (!stop.empty() && text.find(stop) != std::string::npos) return true;
    }
    return false;
  };
  if (stops.empty() || !contains_stop(ids.size())) return ids.size();
  size_t lo = 0, hi = ids.size();  // contains_stop(lo) is false, contains_stop(hi) is true
  while (hi - lo > 1) {
    const size_t mid = lo + (hi - lo) / 2;
    (contains_stop(mid) ? hi : lo) = mid;
  }
  return hi;
}

reward::Sample reward_sample(const model::ModelInputs& inputs, const std::vector<int32_t>& ids, bool truncated,
                             const std::string& gold, const std::string& answer_type,
                             const std::vector<std::string>& options, int64_t max_new_tokens,
                             const model::ImageGeometry& image) {
  reward::Sample s;
  s.completion = inputs.tokenizer().decode(ids, true);
  s.prefill = inputs.spec().assistant_prefill;
  s.truncated = truncated;
  s.gold = gold;
  s.answer_type = reward::parse_answer_type(answer_type).value_or(reward::AnswerType::kAuto);
  s.options = options;
  s.completion_tokens = static_cast<int64_t>(ids.size());
  s.max_new_tokens = max_new_tokens;
  s.original_image = {static_cast<double>(image.original_width), static_cast<double>(image.original_height)};
  s.model_input_image = {static_cast<double>(image.input_width), static_cast<double>(image.input_height)};
  return s;
}

}  // namespace seer::rollout
