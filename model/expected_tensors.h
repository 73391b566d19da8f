// The tensors a Hugging Face checkpoint must hold for a config, by name and shape, from config.json alone
// (no module built, no weights read): what `seer check` compares a checkpoint's safetensors headers with
// before a job allocates anything, and what parameter counts sum. One function per architecture part, each
// listing the tensors that part's module registers under its HF name (checked against the modules and the
// golden checkpoints in tests/model/expected_tensors_test.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/hf_config.h"

namespace seer::model {

struct ExpectedTensor {
  std::string name;            ///< Hugging Face name, e.g. "language_model.model.layers.0.self_attn.q_proj.weight"
  std::vector<int64_t> shape;
  int64_t numel() const;
};

/// Llama / Qwen2 decoder under `prefix` ("language_model." for LLaVA, "" otherwise): model.embed_tokens,
/// model.layers.N.{self_attn, mlp, norms}, model.norm and lm_head (absent when tied), as in
/// modeling_llama.py / modeling_qwen2.py.
std::vector<ExpectedTensor> text_tensors(const TextConfig& c, const std::string& prefix);
/// CLIP (class token, pre-layernorm, no patch bias) or SigLIP (patch bias) vision transformer with its
/// post-layernorm, under vision_tower.vision_model. (modeling_clip.py / modeling_siglip.py without SigLIP's head).
std::vector<ExpectedTensor> llava_tower_tensors(const VisionConfig& c);
/// LLaVA's two-layer projector, multi_modal_projector.linear_{1,2} with biases (modeling_llava.py).
std::vector<ExpectedTensor> llava_projector_tensors(const VisionConfig& v, const TextConfig& t);
/// Qwen2-VL / Qwen2.5-VL patch embedding (Conv3d, no bias) and blocks under visual. (modeling_qwen2_vl.py,
/// modeling_qwen2_5_vl.py: RMSNorm and a gated MLP for 2.5).
std::vector<ExpectedTensor> qwen2_vision_tensors(const Qwen2VisionConfig& c);
/// Qwen2-VL's PatchMerger under visual.merger: ln_q, mlp.0 (merge² x embed_dim square), mlp.2 (-> out_dim).
std::vector<ExpectedTensor> qwen2_merger_tensors(const Qwen2VisionConfig& c);
/// Every tensor of `c`, vision parts first (none for a text-only model).
std::vector<ExpectedTensor> expected_tensors(const VlmConfig& c);

}  // namespace seer::model
