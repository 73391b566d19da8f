#include "model/param_count.h"

namespace seer::model {
namespace {

int64_t linear(int64_t in, int64_t out, bool bias) { return in * out + (bias ? out : 0); }

}  // namespace

int64_t text_parameters(const TextConfig& c) {
  const int64_t D = c.hidden_size, d = c.head_dim, H = c.num_attention_heads, KV = c.num_key_value_heads;
  const int64_t I = c.intermediate_size;
  const int64_t attention = linear(D, H * d, c.attention_bias) + 2 * linear(D, KV * d, c.attention_bias) +
                            linear(H * d, D, c.attention_bias && c.model_type == "llama");  // o_proj: as language_model.cpp
  const int64_t mlp = 2 * linear(D, I, c.mlp_bias) + linear(I, D, c.mlp_bias);
  const int64_t layer = attention + mlp + 2 * D;  // input_layernorm, post_attention_layernorm (RMSNorm)
  const int64_t embeddings = c.vocab_size * D;
  return embeddings + c.num_hidden_layers * layer + D + (c.tie_word_embeddings ? 0 : embeddings);
}

int64_t llava_tower_parameters(const VisionConfig& c) {
  const int64_t D = c.hidden_size, I = c.intermediate_size, p = c.patch_size;
  const bool clip = c.class_token();
  int64_t embeddings = linear(c.num_channels * p * p, D, !clip) + (c.num_patches() + (clip ? 1 : 0)) * D;
  if (clip) embeddings += D + 2 * D;  // class_embedding, pre_layrnorm
  const int64_t layer = 4 * linear(D, D, true) + linear(D, I, true) + linear(I, D, true) + 2 * (2 * D);
  return embeddings + c.num_hidden_layers * layer + 2 * D;  // post_layernorm
}

int64_t llava_projector_parameters(const VisionConfig& v, const TextConfig& t) {
  return linear(v.hidden_size, t.hidden_size, true) + linear(t.hidden_size, t.hidden_size, true);
}

int64_t qwen2_vision_parameters(const Qwen2VisionConfig& c) {
  const int64_t E = c.embed_dim, M = c.mlp_hidden;
  const int64_t norm = c.rms_norm ? E : 2 * E;
  const int64_t mlp = c.gated_mlp ? 2 * linear(E, M, true) + linear(M, E, true) : linear(E, M, true) + linear(M, E, true);
  const int64_t block = 2 * norm + linear(E, 3 * E, true) + linear(E, E, true) + mlp;
  return c.patch_dim() * E + c.depth * block;
}

int64_t qwen2_merger_parameters(const Qwen2VisionConfig& c) {
  const int64_t E = c.embed_dim, merged = E * c.spatial_merge_size * c.spatial_merge_size;
  return (c.rms_norm ? E : 2 * E) + linear(merged, merged, true) + linear(merged, c.out_dim, true);
}

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
