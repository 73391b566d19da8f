#include "model/expected_tensors.h"

#include <utility>

namespace seer::model {
namespace {

/// Appends name.weight (out, in) and, with `bias`, name.bias (out): a torch Linear's parameters.
void linear(std::vector<ExpectedTensor>& out, const std::string& name, int64_t in, int64_t features, bool bias) {
  out.push_back({name + ".weight", {features, in}});
  if (bias) out.push_back({name + ".bias", {features}});
}

/// LayerNorm (weight and bias) or RMSNorm (weight only) over `dim`.
void norm(std::vector<ExpectedTensor>& out, const std::string& name, int64_t dim, bool with_bias) {
  out.push_back({name + ".weight", {dim}});
  if (with_bias) out.push_back({name + ".bias", {dim}});
}

}  // namespace

int64_t ExpectedTensor::numel() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

std::vector<ExpectedTensor> text_tensors(const TextConfig& c, const std::string& prefix) {
  const int64_t D = c.hidden_size, d = c.head_dim, H = c.num_attention_heads, KV = c.num_key_value_heads;
  const int64_t I = c.intermediate_size;
  const std::string m = prefix + "model.";
  std::vector<ExpectedTensor> out;
  out.push_back({m + "embed_tokens.weight", {c.vocab_size, D}});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string l = m + "layers." + std::to_string(i) + ".";
    norm(out, l + "input_layernorm", D, false);
    norm(out, l + "post_attention_layernorm", D, false);
    linear(out, l + "self_attn.q_proj", D, H * d, c.attention_bias);
    linear(out, l + "self_attn.k_proj", D, KV * d, c.attention_bias);
    linear(out, l + "self_attn.v_proj", D, KV * d, c.attention_bias);
    // LlamaAttention biases o_proj with attention_bias; Qwen2Attention never does (as language_model.cpp).
    linear(out, l + "self_attn.o_proj", H * d, D, c.attention_bias && c.model_type == "llama");
    linear(out, l + "mlp.gate_proj", D, I, c.mlp_bias);
    linear(out, l + "mlp.up_proj", D, I, c.mlp_bias);
    linear(out, l + "mlp.down_proj", I, D, c.mlp_bias);
  }
  norm(out, m + "norm", D, false);
  if (!c.tie_word_embeddings) linear(out, prefix + "lm_head", D, c.vocab_size, false);
  return out;
}

std::vector<ExpectedTensor> llava_tower_tensors(const VisionConfig& c) {
  const int64_t D = c.hidden_size, I = c.intermediate_size, p = c.patch_size;
  const bool clip = c.class_token();
  const std::string v = "vision_tower.vision_model.";
  std::vector<ExpectedTensor> out;
  if (clip) out.push_back({v + "embeddings.class_embedding", {D}});
  out.push_back({v + "embeddings.patch_embedding.weight", {D, c.num_channels, p, p}});
  if (!clip) out.push_back({v + "embeddings.patch_embedding.bias", {D}});
  out.push_back({v + "embeddings.position_embedding.weight", {c.num_patches() + (clip ? 1 : 0), D}});
  if (clip) norm(out, v + "pre_layrnorm", D, true);  // sic: the HF name
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string l = v + "encoder.layers." + std::to_string(i) + ".";
    norm(out, l + "layer_norm1", D, true);
    norm(out, l + "layer_norm2", D, true);
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) linear(out, l + "self_attn." + proj, D, D, true);
    linear(out, l + "mlp.fc1", D, I, true);
    linear(out, l + "mlp.fc2", I, D, true);
  }
  norm(out, v + "post_layernorm", D, true);
  return out;
}

std::vector<ExpectedTensor> llava_projector_tensors(const VisionConfig& v, const TextConfig& t) {
  std::vector<ExpectedTensor> out;
  linear(out, "multi_modal_projector.linear_1", v.hidden_size, t.hidden_size, true);
  linear(out, "multi_modal_projector.linear_2", t.hidden_size, t.hidden_size, true);
  return out;
}

std::vector<ExpectedTensor> qwen2_vision_tensors(const Qwen2VisionConfig& c) {
  const int64_t E = c.embed_dim, M = c.mlp_hidden;
  std::vector<ExpectedTensor> out;
  out.push_back({"visual.patch_embed.proj.weight", {E, c.in_channels, c.temporal_patch_size, c.patch_size, c.patch_size}});
  for (int64_t i = 0; i < c.depth; ++i) {
    const std::string b = "visual.blocks." + std::to_string(i) + ".";
    norm(out, b + "norm1", E, !c.rms_norm);
    norm(out, b + "norm2", E, !c.rms_norm);
    linear(out, b + "attn.qkv", E, 3 * E, true);
    linear(out, b + "attn.proj", E, E, true);
    if (c.gated_mlp) {
      linear(out, b + "mlp.gate_proj", E, M, true);
      linear(out, b + "mlp.up_proj", E, M, true);
      linear(out, b + "mlp.down_proj", M, E, true);
    } else {
      linear(out, b + "mlp.fc1", E, M, true);
      linear(out, b + "mlp.fc2", M, E, true);
    }
  }
  return out;
}

std::vector<ExpectedTensor> qwen2_merger_tensors(const Qwen2VisionConfig& c) {
  const int64_t merged = c.embed_dim * c.spatial_merge_size * c.spatial_merge_size;
  std::vector<ExpectedTensor> out;
  norm(out, "visual.merger.ln_q", c.embed_dim, !c.rms_norm);
  linear(out, "visual.merger.mlp.0", merged, merged, true);
  linear(out, "visual.merger.mlp.2", merged, c.out_dim, true);
  return out;
}

std::vector<ExpectedTensor> expected_tensors(const VlmConfig& c) {
  std::vector<ExpectedTensor> out;
  auto append = [&out](std::vector<ExpectedTensor> part) {
    for (auto& t : part) out.push_back(std::move(t));
  };
  if (c.has_vision && c.dynamic_resolution()) {
    append(qwen2_vision_tensors(c.qwen_vision));
    append(qwen2_merger_tensors(c.qwen_vision));
  } else if (c.has_vision) {
    append(llava_tower_tensors(c.vision));
    append(llava_projector_tensors(c.vision, c.text));
  }
  append(text_tensors(c.text, c.text_prefix()));
  return out;
}

}  // namespace seer::model
