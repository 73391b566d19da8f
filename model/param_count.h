// Parameter counts of a model from its config alone (no weights read or allocated): what a memory estimate
// for a 7B model needs on a machine that could not hold it. One function per architecture part, each counting
// the tensors that part's module registers (checked against the modules and the golden checkpoints in
// tests/model/param_count_test.cpp).
#pragma once

#include <cstdint>

#include "model/hf_config.h"

namespace seer::model {

struct ParameterCount {
  int64_t vision_tower = 0;  ///< CLIP / SigLIP tower, or Qwen2-VL's patch embedding and blocks
  int64_t projector = 0;     ///< LLaVA multi_modal_projector, or Qwen2-VL's PatchMerger
  int64_t text = 0;          ///< decoder, embeddings and lm_head (counted once when tied)
  int64_t total() const { return vision_tower + projector + text; }
};

/// Llama / Qwen2 decoder with embeddings, final norm and (untied) lm_head, as in modeling_llama.py /
/// modeling_qwen2.py.
int64_t text_parameters(const TextConfig& c);
/// CLIP (class token, pre-layernorm) or SigLIP (patch bias, no class token) vision transformer with its
/// post-layernorm, as seer loads it for LLaVA (modeling_clip.py / modeling_siglip.py without SigLIP's head).
int64_t llava_tower_parameters(const VisionConfig& c);
/// LLaVA's two-layer projector: vision hidden -> text hidden -> text hidden, with biases (modeling_llava.py).
int64_t llava_projector_parameters(const VisionConfig& v, const TextConfig& t);
/// Qwen2-VL / Qwen2.5-VL patch embedding (Conv3d without bias) and blocks (modeling_qwen2_vl.py,
/// modeling_qwen2_5_vl.py).
int64_t qwen2_vision_parameters(const Qwen2VisionConfig& c);
/// Qwen2-VL's PatchMerger: ln_q, then merge² x embed_dim -> same -> out_dim.
int64_t qwen2_merger_parameters(const Qwen2VisionConfig& c);

/// All parts of `c` (vision parts are 0 for a text-only model).
ParameterCount count_parameters(const VlmConfig& c);

}  // namespace seer::model
