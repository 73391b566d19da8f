// The decoder of Llama / Qwen2 (modeling_llama.py, modeling_qwen2.py v4.45): token embeddings, decoder
// layers (RMSNorm, RoPE, grouped-query attention with optional q/k/v bias, SwiGLU MLP), final norm.
// Tensor names follow Hugging Face under "model.". Internal to model/.
#pragma once

#include <vector>

#include "model/hf_config.h"
#include "model/kv_cache.h"
#include "model/layers.h"
#include "model/rotary.h"

namespace seer::model {

class DecoderLayerImpl : public torch::nn::Module {
 public:
  DecoderLayerImpl(const TextConfig& c, int64_t index);
  /// x (B, T, D); rotary cos/sin of the tokens' positions; allowed (B, T, Tk) bool over all keys (cache +
  /// new); cache: keys/values of these tokens are written at [cache->length, cache->length + T) when given;
  /// shared: each row also attends to its shared prompt's keys first (attention_shared_prefix; `allowed` then
  /// covers the prompt's keys, then the others).
  torch::Tensor forward(const torch::Tensor& x, const RotaryTable& rotary, const torch::Tensor& allowed,
                        KvCache* cache, const SharedKv* shared = nullptr);

 private:
  TextConfig c_;
  int64_t index_;
  RmsNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(DecoderLayer);

/// "model": embed_tokens, layers.*, norm.
class DecoderImpl : public torch::nn::Module {
 public:
  explicit DecoderImpl(const TextConfig& c);
  /// Token embeddings: ids (B, T) int64 -> (B, T, D).
  torch::Tensor embed(const torch::Tensor& ids);
  /// embeds (B, T, D), positions (B, T) int64 (or (3, B, T) for M-RoPE, rotary.h), key_valid (B, Tk) bool marking real (non-pad) keys over
  /// cache + new tokens (Tk = cache length + T). Causal within the frame. Advances cache->length by T.
  /// Returns the final-normed hidden states (B, T, D); `layer_outputs` gets each layer's output.
  /// `shared`: keys/values of prompts that runs of rows share, attended before the cache and the new tokens
  /// (kv_cache.h SharedKv; positions then continue the prompt's). Not with gradient checkpointing.
  torch::Tensor forward(const torch::Tensor& embeds, const torch::Tensor& positions, const torch::Tensor& key_valid,
                        KvCache* cache, std::vector<torch::Tensor>* layer_outputs = nullptr,
                        const SharedKv* shared = nullptr);
  torch::nn::Embedding embed_tokens{nullptr};
  /// On: in training mode with autograd on and no KV cache, each layer's activations are recomputed in backward
  /// instead of kept (activation_checkpoint.h); same gradients, less memory, one more layer forward each.
  void set_gradient_checkpointing(bool on) { checkpoint_layers_ = on; }
  bool gradient_checkpointing() const { return checkpoint_layers_; }

 private:
  TextConfig c_;
  bool checkpoint_layers_ = false;
  torch::nn::ModuleList layers{nullptr};
  RmsNorm norm{nullptr};
};
TORCH_MODULE(Decoder);

}  // namespace seer::model
