#include "model/param_count.h"

#include "model/expected_tensors.h"

namespace seer::model {
namespace {

int64_t total(const std::vector<ExpectedTensor>& tensors) {
  int64_t n = 0;
  for (const auto& t : tensors) n += t.numel();
  return n;
}

}  // namespace

// Each count is the sum over the tensors the part registers (model/expected_tensors.h), so the counts and the
// checkpoint check can never disagree about what a config holds.
int64_t text_parameters(const TextConfig& c) { return total(text_tensors(c, "")); }
int64_t llava_tower_parameters(const VisionConfig& c) { return total(llava_tower_tensors(c)); }
int64_t llava_projector_parameters(const VisionConfig& v, const TextConfig& t) {
  return total(llava_projector_tensors(v, t));
}
int64_t qwen2_vision_parameters(const Qwen2VisionConfig& c) { return total(qwen2_vision_tensors(c)); }
int64_t qwen2_merger_parameters(const Qwen2VisionConfig& c) { return total(qwen2_merger_tensors(c)); }

ParameterCount count_parameters(const VlmConfig& c) {
  ParameterCount n;
  n.text = text_parameters(c.text);
  if (!c.has_vision) return n;
  if (c.dynamic_resolution()) {
    n.vision_tower = qwen2_vision_parameters(c.qwen_vision);
    n.projector = qwen2_merger_parameters(c.qwen_vision);
  } else {
    n.vision_tower = llava_tower_parameters(c.vision);
    n.projector = llava_projector_parameters(c.vision, c.text);
  }
  return n;
}

}  // namespace seer::model
