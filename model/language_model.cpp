#include "model/language_model.h"

#include <cmath>

#include "core/check.h"
#include "model/activation_checkpoint.h"

namespace seer::model {

KvCache make_kv_cache(int64_t layers, int64_t rows, int64_t kv_heads, int64_t head_dim, int64_t capacity,
                      const at::TensorOptions& options) {
  KvCache c;
  for (int64_t i = 0; i < layers; ++i) {
    c.k.push_back(torch::zeros({rows, kv_heads, capacity, head_dim}, options));
    c.v.push_back(torch::zeros({rows, kv_heads, capacity, head_dim}, options));
  }
  c.valid = torch::zeros({rows, capacity}, options.dtype(torch::kBool));
  return c;
}

SharedKv share_cache(const KvCache& cache, int64_t length, std::vector<int64_t> rows) {
  SEER_CHECK(length >= 1 && length <= cache.length, "share_cache: {} positions asked, the cache holds {}", length,
             cache.length);
  SharedKv s;
  for (const auto& t : cache.k) s.k.push_back(t.narrow(2, 0, length));
  for (const auto& t : cache.v) s.v.push_back(t.narrow(2, 0, length));
  s.valid = cache.valid.narrow(1, 0, length);
  s.rows = std::move(rows);
  return s;
}

DecoderLayerImpl::DecoderLayerImpl(const TextConfig& c, int64_t index) : c_(c), index_(index) {
  const int64_t D = c.hidden_size, H = c.num_attention_heads, Hkv = c.num_key_value_heads, d = c.head_dim;
  input_layernorm = register_module("input_layernorm", RmsNorm(D, c.rms_norm_eps));
  post_attention_layernorm = register_module("post_attention_layernorm", RmsNorm(D, c.rms_norm_eps));
  auto attn = register_module("self_attn", std::make_shared<torch::nn::Module>());
  auto lin = [](int64_t in, int64_t out, bool bias) { return Linear(in, out, bias); };
  q_proj = attn->register_module("q_proj", lin(D, H * d, c.attention_bias));
  k_proj = attn->register_module("k_proj", lin(D, Hkv * d, c.attention_bias));
  v_proj = attn->register_module("v_proj", lin(D, Hkv * d, c.attention_bias));
  // LlamaAttention biases o_proj with config.attention_bias too; Qwen2Attention never does (modeling_*.py v4.45).
  o_proj = attn->register_module("o_proj", lin(H * d, D, c.attention_bias && c.model_type == "llama"));
  auto mlp = register_module("mlp", std::make_shared<torch::nn::Module>());
  gate_proj = mlp->register_module("gate_proj", lin(D, c.intermediate_size, c.mlp_bias));
  up_proj = mlp->register_module("up_proj", lin(D, c.intermediate_size, c.mlp_bias));
  down_proj = mlp->register_module("down_proj", lin(c.intermediate_size, D, c.mlp_bias));
}

namespace {

/// x through several linear layers of the same input as one product over their stacked weights (q/k/v, gate/up):
/// (..., Σ out_i), or undefined where that does not apply (autograd, no WeightCastCache alive, products in the
/// weights' own dtype, an active LoRA adapter, biases on some parts only). Only where the weights are cast anyway
/// (bf16 products of float32 weights): the stacked cast replaces the parts' casts, so it costs no extra memory.
/// Each output is the same dot product as its own layer's.
at::Tensor stacked_product(const at::Tensor& x, const std::vector<const LinearImpl*>& parts) {
  if (compute_dtype() == x.scalar_type() || x.scalar_type() != at::kFloat ||
      parts[0]->weight.scalar_type() == compute_dtype()) {
    return {};
  }
  std::vector<at::Tensor> weights, biases;
  for (const LinearImpl* p : parts) {
    if (p->has_lora() && adapters_enabled()) return {};
    weights.push_back(p->weight);
    if (p->bias.defined()) biases.push_back(p->bias);
  }
  if (!biases.empty() && biases.size() != parts.size()) return {};
  const at::ScalarType dtype = compute_dtype();
  const at::Tensor w = WeightCastCache::stacked(weights, dtype);
  if (!w.defined()) return {};
  return model::linear(x, w, biases.empty() ? at::Tensor() : WeightCastCache::stacked(biases, dtype));
}

}  // namespace

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& x, const RotaryTable& rotary,
                                        const torch::Tensor& allowed, KvCache* cache, const SharedKv* shared) {
  const int64_t B = x.size(0), T = x.size(1), H = c_.num_attention_heads, Hkv = c_.num_key_value_heads, d = c_.head_dim;
  auto h = input_layernorm(x);
  at::Tensor q_lin, k_lin, v_lin;
  if (const at::Tensor qkv = stacked_product(h, {q_proj.get(), k_proj.get(), v_proj.get()}); qkv.defined()) {
    const auto parts = qkv.split_with_sizes({H * d, Hkv * d, Hkv * d}, -1);
    q_lin = parts[0], k_lin = parts[1], v_lin = parts[2];
  } else {
    q_lin = q_proj(h), k_lin = k_proj(h), v_lin = v_proj(h);
  }
  auto q = apply_rotary(q_lin.view({B, T, H, d}).transpose(1, 2), rotary);    // (B, H, T, d)
  auto k = apply_rotary(k_lin.view({B, T, Hkv, d}).transpose(1, 2), rotary);  // (B, Hkv, T, d)
  auto v = v_lin.view({B, T, Hkv, d}).transpose(1, 2);
  if (cache != nullptr) {
    const int64_t start = cache->length;
    auto& ck = cache->k[static_cast<size_t>(index_)];
    auto& cv = cache->v[static_cast<size_t>(index_)];
    ck.narrow(2, start, T).copy_(k);
    cv.narrow(2, start, T).copy_(v);
    k = ck.narrow(2, 0, start + T);
    v = cv.narrow(2, 0, start + T);
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  const auto i = static_cast<size_t>(index_);
  auto a = shared == nullptr ? attention(q, k, v, allowed, scale)  // (B, H, T, d)
                             : attention_shared_prefix(q, k, v, allowed, shared->k[i], shared->v[i], shared->rows, scale);
  h = x + o_proj(a.transpose(1, 2).reshape({B, T, H * d}));
  auto m = post_attention_layernorm(h);
  if (const at::Tensor gate_up = stacked_product(m, {gate_proj.get(), up_proj.get()}); gate_up.defined()) {
    const auto parts = gate_up.chunk(2, -1);
    return h + down_proj(torch::silu(parts[0]) * parts[1]);
  }
  return h + down_proj(torch::silu(gate_proj(m)) * up_proj(m));
}

DecoderImpl::DecoderImpl(const TextConfig& c) : c_(c) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers->push_back(DecoderLayer(c, i));
  norm = register_module("norm", RmsNorm(c.hidden_size, c.rms_norm_eps));
}

torch::Tensor DecoderImpl::embed(const torch::Tensor& ids) { return embed_tokens(ids); }

torch::Tensor DecoderImpl::forward(const torch::Tensor& embeds, const torch::Tensor& positions,
                                   const torch::Tensor& key_valid, KvCache* cache,
                                   std::vector<torch::Tensor>* layer_outputs, const SharedKv* shared) {
  const int64_t T = embeds.size(1);
  const int64_t past = cache != nullptr ? cache->length : 0;
  SEER_CHECK(key_valid.size(1) == past + T, "decoder: key_valid covers {} positions, expected cache {} + new {}",
             key_valid.size(1), past, T);
  SEER_CHECK(cache == nullptr || past + T <= cache->capacity(), "decoder: KV cache of {} positions is full ({} + {})",
             cache ? cache->capacity() : 0, past, T);
  // allowed[b, i, j]: key j is real and not in the future of query i (query i sits at frame index past + i).
  auto q_idx = torch::arange(past, past + T, torch::TensorOptions().dtype(torch::kInt64).device(embeds.device()));
  auto k_idx = torch::arange(0, past + T, q_idx.options());
  auto causal = k_idx.unsqueeze(0) <= q_idx.unsqueeze(1);                  // (T, Tk)
  auto allowed = causal.unsqueeze(0) & key_valid.unsqueeze(1);              // (B, T, Tk)
  if (shared != nullptr) {  // every query follows all of its prompt's keys: only the prompt's padding is masked
    const auto counts = torch::tensor(shared->rows, torch::kLong).to(shared->valid.device());
    const auto prompt = shared->valid.repeat_interleave(counts, 0);       // (B, Tp)
    allowed = torch::cat({prompt.unsqueeze(1).expand({prompt.size(0), T, prompt.size(1)}), allowed}, -1);
  }
  if (cache != nullptr) cache->valid.narrow(1, past, T).copy_(key_valid.narrow(1, past, T));
  // One cos/sin table for every layer. Decode steps of an M-RoPE model pass (B, T) positions (cache position
  // + rope delta), the same on all three streams, which is plain 1-D RoPE.
  const RotaryTable rotary = rotary_table(positions, c_.head_dim, c_.rope_theta, c_.mrope_section, embeds.scalar_type());
  auto x = embeds;
  const bool recompute = checkpoint_layers_ && is_training() && cache == nullptr && torch::GradMode::is_enabled();
  SEER_CHECK(shared == nullptr || !recompute, "decoder: a shared prompt cannot run with gradient checkpointing");
  SEER_CHECK(shared == nullptr || shared->k.size() == layers->size(), "decoder: shared prompt keys for {} layers, the model has {}",
             shared ? shared->k.size() : 0, layers->size());
  for (size_t i = 0; i < layers->size(); ++i) {
    if (recompute) {
      // By value: backward runs the block after this function has returned.
      auto layer = std::dynamic_pointer_cast<DecoderLayerImpl>(layers->ptr(i));
      x = checkpointed([layer, rotary, allowed](const torch::Tensor& h) { return layer->forward(h, rotary, allowed, nullptr); },
                       x);
    } else {
      x = layers[i]->as<DecoderLayerImpl>()->forward(x, rotary, allowed, cache, shared);
    }
    if (layer_outputs != nullptr) layer_outputs->push_back(x);
  }
  if (cache != nullptr) cache->length = past + T;
  return norm(x);
}

}  // namespace seer::model
