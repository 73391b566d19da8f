// The policy: a VLM (vision tower -> projector -> image features placed at the image placeholder tokens ->
// decoder -> lm_head) of the LLaVA family (CLIP/SigLIP + Llama/Qwen2) or of Qwen2-VL (patch-grid tower +
// PatchMerger, M-RoPE decoder), or a text-only decoder. Loads and saves Hugging Face checkpoints (config.json
// + safetensors, HF tensor names) and matches transformers v4.45 (modeling_llava.py, modeling_qwen2_vl.py)
// within float32 rounding. What differs between families lives in vision_part.h. Legend: B batch, T tokens,
// N images, F features per image, D text hidden size, V vocabulary. Images: LLaVA (N, 3, S, S) pixels;
// Qwen2-VL (N, t, h, w, patch_dim) patch grids of one size (qwen2vl_patches.h), one call per size.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "model/hf_config.h"
#include "model/kv_cache.h"
#include "model/lora.h"

namespace seer::model {

/// Default row-chunk size of token_logprobs: 64 MiB of float32 logits (110 rows of a 151,936-token vocabulary).
inline constexpr int64_t kDefaultLogprobChunkBytes = int64_t{64} << 20;

struct LoadOptions {
  std::string device = "cpu";                ///< "cpu", "cuda", "cuda:1"
  at::ScalarType dtype = at::kFloat;         ///< parameter dtype
  bool freeze_vision_tower = true;           ///< no gradient into the vision tower
  LoraSpec lora;                             ///< rank > 0: add LoRA adapters after loading (model/lora.h)
  uint64_t lora_seed = 0;                    ///< initialisation of the adapters' A factors
};

/// Intermediates of one vision pass, for tests and debugging.
struct VisionTrace {
  std::vector<at::Tensor> hidden_states;  ///< (N, T_v, D_v) each: up to the feature layer, or all L+1
  at::Tensor last_hidden_state;           ///< (N, T_v, D_v) as transformers reports it (SigLIP: post-layernorm);
                                          ///< only with all_layers
  at::Tensor selected;                    ///< (N, F, D_v): hidden_states[vision_feature_layer], CLS dropped for "default"
  at::Tensor features;                    ///< (N, F, D): projector output
};

/// Per-token log-probabilities of target tokens (training forward).
struct TokenLogprobs {
  at::Tensor logprobs;  ///< (B, T) float32: log p(ids[b,t] | ids[b,<t]) at target positions, 0 elsewhere
  at::Tensor entropy;   ///< (B, T) float32 entropy of the predictive distribution at target positions (if asked)
};

/// Rows of a training batch that share their prompt: runs of consecutive rows (a GRPO group's samples). The
/// prompt is computed once per run and its keys/values read by every row of it (kv_cache.h SharedKv).
struct SharedPrompts {
  std::vector<int64_t> rows;    ///< per prompt: how many consecutive batch rows share it (sum = B)
  std::vector<int64_t> length;  ///< per prompt: its tokens, the leading ids of each of its rows (no targets there)
};

class Vlm {
 public:
  /// Loads `dir` (config.json + model.safetensors or shards). Throws seer::Error naming the file and
  /// tensor for a missing tensor or a shape mismatch; extra tensors are reported in the log and skipped.
  /// A PEFT LoRA folder (adapter_config.json, no model weights: what save_pretrained writes for a model with
  /// adapters) loads its base model (base_model_name_or_path) and adds its adapters; options.lora is then
  /// ignored.
  static std::unique_ptr<Vlm> load(const std::string& dir, const LoadOptions& options = {});
  /// A randomly initialised model of `config` (deterministic for `seed`).
  static std::unique_ptr<Vlm> create(const VlmConfig& config, uint64_t seed, const LoadOptions& options = {});
  ~Vlm();
  Vlm(const Vlm&) = delete;
  Vlm& operator=(const Vlm&) = delete;

  const VlmConfig& config() const;
  at::Device device() const;

  /// Writes config.json, generation_config.json and the weights (one file, or shards of at most
  /// `max_shard_bytes` with an index) into `dir`, each file atomically. Tied lm_head is not written.
  /// With LoRA adapters the weights are the adapters only, as a PEFT folder (adapter_config.json +
  /// adapter_model.safetensors naming the base model's folder), which load() reads back.
  void save_pretrained(const std::string& dir, int64_t max_shard_bytes = 0) const;
  /// A full Hugging Face checkpoint with every adapter folded into its base weight (W0 + (alpha / r) B A, in
  /// float64): what PEFT's merge_and_unload() then save_pretrained() write. Without adapters: save_pretrained.
  void save_merged(const std::string& dir, int64_t max_shard_bytes = 0) const;

  /// Adds LoRA adapters (model/lora.h) to the decoder's and projector's linear layers named by
  /// spec.target_modules; from then on only adapter parameters take gradients. `seed` initialises A.
  /// Throws seer::Error when nothing matches or adapters exist already.
  void add_lora(const LoraSpec& spec, uint64_t seed);
  /// The adapter settings (rank 0 = none) and the adapted modules' HF names.
  const LoraSpec& lora() const;
  const std::vector<std::string>& lora_modules() const;
  /// The folder the base weights came from (absolute): an adapter folder's base_model_name_or_path.
  const std::string& base_model_path() const;

  /// One vision pass + projector: images (see above) -> image features (N, F, D).
  /// Increments vision_passes(). Throws seer::Error for a text-only model or a wrong image shape.
  at::Tensor image_features(const at::Tensor& pixel_values);
  /// The same for a list of single images of any sizes (each (1, ...) as above), in order: one (F_i, D) tensor
  /// per image; one vision pass per run of same-shaped images.
  std::vector<at::Tensor> image_features(const std::vector<at::Tensor>& images);
  /// The vision tower's selected features without the projector: (N, F, D_v), no gradient. With a frozen
  /// vision tower this is what a learner step computes once per prompt and reuses for the old, reference and
  /// current passes (project() is then applied by each model). Increments vision_passes().
  at::Tensor vision_features(const at::Tensor& pixel_values);
  /// The projector: selected vision features (N, F, D_v) -> image features (N, F, D). Differentiable.
  at::Tensor project(const at::Tensor& selected);
  bool vision_frozen() const;
  /// Image placeholder tokens the prompt holds for one image tensor (fixed for LLaVA; t·h·w / merge² for a
  /// Qwen2-VL (t, h, w, patch_dim) grid). Throws seer::Error for a text-only model or a wrong shape.
  int64_t image_tokens(const at::Tensor& image) const;
  /// Decoder position ids for ids (B, T) int64 with valid (B, T) bool (padding anywhere) and the batch's images
  /// in reading order: (B, T) running count for LLaVA and text-only models, (3, B, T) M-RoPE ids for Qwen2-VL
  /// (get_rope_index). Throws seer::Error when image tokens and images disagree.
  at::Tensor positions(const at::Tensor& ids, const at::Tensor& valid, const std::vector<at::Tensor>& images) const;
  /// Same pass, keeping the hidden states (all L+1 of them with `all_layers`; otherwise the pass stops
  /// at the feature layer, as image_features does).
  VisionTrace trace_vision(const at::Tensor& pixel_values, bool all_layers = false);

  /// Token embeddings with image features written, in order, at the image placeholder positions
  /// (modeling_llava.py masked_scatter): ids (B, T) int64, features (..., D) (N·F rows in all) or undefined ->
  /// (B, T, D). Throws seer::Error naming both counts when placeholders != N·F.
  at::Tensor embed(const at::Tensor& ids, const at::Tensor& features);

  /// Decoder: embeds (B, T, D), positions (B, T) or (3, B, T) int64, key_valid (B, cache length + T) bool.
  /// Returns final-normed hidden states (B, T, D). `layer_outputs` receives each layer's output.
  /// `shared`: keys/values of prompts that runs of rows share, attended before the cache and the new tokens.
  at::Tensor decode(const at::Tensor& embeds, const at::Tensor& positions, const at::Tensor& key_valid,
                    KvCache* cache = nullptr, std::vector<at::Tensor>* layer_outputs = nullptr,
                    const SharedKv* shared = nullptr);
  /// lm_head (or the tied embedding matrix): hidden (..., D) -> logits (..., V) float32 (float64 for a float64 model).
  at::Tensor logits(const at::Tensor& hidden);

  /// Training forward: ids (B, T) int64 (padded anywhere), attention_mask (B, T) {0,1}, features (N, F, D) or
  /// undefined, target_mask (B, T) bool marking the tokens to score (each predicted from the previous
  /// position; t = 0 is never a target). log_softmax(logits / temperature) only at target positions: no
  /// full-vocabulary logits for prompt tokens. Differentiable. `position_ids` from positions() (undefined = the
  /// running count, right for models without M-RoPE).
  /// With `shared` (rows right-padded, each run's prompt at its rows' start), each prompt runs once and its rows'
  /// remaining tokens attend to its keys: the same log-probs and gradients as without, for a fraction of the work
  /// when prompts are long (GRPO's G samples of one prompt). `features` then holds each prompt's image features
  /// once, in prompt order. Not with gradient checkpointing. Throws seer::Error when a target lies in a prompt.
  TokenLogprobs token_logprobs(const at::Tensor& ids, const at::Tensor& attention_mask, const at::Tensor& features,
                               const at::Tensor& target_mask, double temperature = 1.0, bool with_entropy = false,
                               const at::Tensor& position_ids = {}, const SharedPrompts* shared = nullptr);

  /// An empty KV cache sized for `rows` sequences of up to `capacity` tokens.
  KvCache new_cache(int64_t rows, int64_t capacity) const;

  /// Parameters by Hugging Face name (tied lm_head omitted). The tensors are the live parameters.
  std::map<std::string, at::Tensor> named_parameters() const;
  /// Parameters that take gradients: projector and language model, plus the vision tower if not frozen; with
  /// LoRA adapters only the adapters.
  std::vector<at::Tensor> trainable_parameters() const;
  void set_train(bool train);
  /// Activation checkpointing per decoder layer while training (trainer.gradient_checkpointing): the same
  /// gradients with one layer's input kept per layer instead of all its activations.
  void set_gradient_checkpointing(bool on);
  bool gradient_checkpointing() const;
  /// token_logprobs computes the lm_head and log-softmax in row chunks of about `bytes` of float32 logits each
  /// (default kDefaultLogprobChunkBytes; <= 0: all rows at once), recomputing a chunk in backward instead of
  /// keeping every row's (vocabulary-wide) log-softmax. Same values as one pass; rows below one chunk run as one.
  void set_logprob_chunk_bytes(int64_t bytes);

  /// Counters for tests and metrics: vision passes (image_features/trace_vision calls) and prefills
  /// (decode calls with a cache starting empty and no shared prompt).
  int64_t vision_passes() const;
  int64_t prefill_passes() const;

 private:
  struct Impl;
  explicit Vlm(std::unique_ptr<Impl> impl);
  /// token_logprobs with shared prompts: the hidden state before each target (K, D) and the targets (K), row-major.
  std::pair<at::Tensor, at::Tensor> shared_prompt_pass(const at::Tensor& ids, const at::Tensor& mask,
                                                       const at::Tensor& features, const at::Tensor& targets,
                                                       const at::Tensor& positions, const SharedPrompts& shared);
  /// Moves the module to the device and dtype of `options`, adds options.lora's adapters and sets the freeze
  /// flags.
  static std::unique_ptr<Vlm> finish(std::unique_ptr<Impl> impl, const LoadOptions& options);
  /// config.json and generation_config.json into `dir`.
  void write_config_files(const std::string& dir) const;
  /// Whether the parameter at module path `module_key` takes gradients (frozen tower, LoRA).
  bool takes_gradient(const std::string& module_key) const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seer::model
