// Everything that turns a dataset row into model inputs for one model folder: its tokenizer
// (tokenizer.json), chat family and special tokens (tokenizer_config.json, or `model.chat_template`),
// image processor (preprocessor_config.json) and the prompt settings of the config. Used the same way by
// the learner (SFT examples, GRPO prompts), the rollout workers and evaluation, so all of them feed the
// model identical tokens and pixels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/config.h"
#include "model/hf_config.h"
#include "model/image_decode.h"
#include "model/image_processor.h"
#include "model/prompt.h"
#include "model/sft_example.h"
#include "model/tokenizer.h"

namespace seer::model {

struct InputOptions {
  std::string chat_template = "auto";  ///< model.chat_template: auto (from tokenizer_config.json) or a family name
  std::string system_prompt;
  std::string assistant_prefill;
  int64_t max_prompt_tokens = 1024;
  AlphaMode alpha = AlphaMode::kWhite;
  DecodeLimits limits;
};

/// The two frames of one image, in pixels: as decoded (after EXIF orientation) and as the model sees it
/// (after resize/crop). A reward request carries both so a predicted box (model-input frame) can be
/// compared with a gold box (original frame); ../shared/design/rewards.md, bbox.
struct ImageGeometry {
  int original_width = 0, original_height = 0;
  int input_width = 0, input_height = 0;
};

/// The input options of a run (model.chat_template/system_prompt/assistant_prefill, data.max_prompt_tokens,
/// the image section).
InputOptions input_options(const ExperimentConfig& config);

/// The preprocessed images of one prompt, in prompt order.
struct PromptImages {
  std::vector<at::Tensor> pixel_values;  ///< one ModelInputs::pixel_values() tensor per image
  std::vector<int64_t> tokens;           ///< placeholder tokens per image (ModelInputs::image_tokens)
  std::vector<ImageGeometry> geometry;   ///< frames per image
};

class ModelInputs {
 public:
  /// Reads the tokenizer, tokenizer_config.json and (for a VLM) preprocessor_config.json of `model_dir`.
  /// Throws seer::Error naming the file and field that is missing or unsupported.
  static ModelInputs load(const std::string& model_dir, const VlmConfig& config, const InputOptions& options);

  const Tokenizer& tokenizer() const { return tokenizer_; }
  const PromptSpec& spec() const { return spec_; }
  /// Token ids that end a completion: the model's EOS ids (config/generation_config) and the chat family's
  /// end-of-turn token when the tokenizer has it.
  const std::vector<int64_t>& stop_ids() const { return stop_ids_; }
  int64_t pad_id() const { return pad_id_; }

  /// The question of an RL row as a prompt with one image per `image_tokens` entry (the placeholder count of
  /// each image, image_tokens() of its pixel values; empty = text only): "<image>" tags in the question place
  /// the images, otherwise they come first. Throws seer::Error naming `sample` (over-long prompt, tags that do
  /// not match the images, image tokens in the question's text).
  PromptTokens prompt(const std::string& question, const std::vector<int64_t>& image_tokens,
                      const std::string& sample) const;
  /// An SFT conversation (roles user/assistant; "<image>" in a turn marks the next image) as an example with
  /// assistant-only targets; `image_tokens` as for prompt(). Throws seer::Error naming `sample`.
  SftExample sft_example(const std::vector<std::pair<std::string, std::string>>& turns,
                         const std::vector<int64_t>& image_tokens, const std::string& sample) const;
  /// The images of one row, decoded and preprocessed in order (pixel_values() of each), with their placeholder
  /// counts and frames. Throws seer::Error naming the image that fails.
  PromptImages images(const std::vector<std::string>& paths) const;
  /// Decoded and preprocessed image, float32 on the CPU: (1, 3, H, W) pixels, or for Qwen2-VL the processor's
  /// patch rows as a (1, t, h, w, patch_dim) grid (vlm.h); its frames go to `geometry` when given. Throws
  /// seer::Error naming `path`.
  at::Tensor pixel_values(const std::string& path, ImageGeometry* geometry = nullptr) const;
  /// Image placeholder tokens for one preprocessed image (pixel_values()): fixed for LLaVA, t·h·w / merge² for
  /// Qwen2-VL.
  int64_t image_tokens(const at::Tensor& pixel_values) const;
  /// One line saying how an image becomes model inputs (processor type, sizes, mean/std, image tokens, alpha
  /// and decode limits); equal lines give equal pixels and token counts. "" for a text-only model.
  std::string image_inputs() const;

 private:
  ModelInputs(Tokenizer tokenizer) : tokenizer_(std::move(tokenizer)) {}
  Tokenizer tokenizer_;
  PromptSpec spec_;
  ProcessorConfig processor_;
  bool has_vision_ = false;
  /// The spec with `image_tokens` placeholders, one entry per image.
  PromptSpec spec_for(const std::vector<int64_t>& image_tokens, const std::string& sample) const;
  int64_t fixed_image_tokens_ = 0;  ///< LLaVA: placeholders per image (0 = depends on the image)
  InputOptions options_;
  std::vector<int64_t> stop_ids_;
  int64_t pad_id_ = 0;
};

}  // namespace seer::model
