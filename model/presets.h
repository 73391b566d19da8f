// Small models seer can create from nothing (`seer init-model`), so the quickstart and the tests need no
// downloads: LLaVA-style (CLIP-style vision tower + gelu projector + Qwen2-style decoder with tied embeddings
// and q/k/v bias) or Qwen2-VL (patch-grid tower + PatchMerger + the same decoder with M-RoPE), over a
// byte-level vocabulary.
#pragma once

#include <string>
#include <vector>

#include "model/hf_config.h"

namespace seer::model {

/// Special and added tokens of the byte-level vocabulary, in id order after the 256 byte tokens.
/// The reasoning tags are single tokens so a tiny model can learn the format quickly.
const std::vector<std::string>& byte_vocab_added_tokens();

/// config.json contents for preset "tiny" (~0.6 M parameters, trains in minutes on 2 cores), "tiny-qwen2vl"
/// (Qwen2VLForConditionalGeneration with the same decoder, a patch-grid tower and M-RoPE; byte vocabulary plus
/// <|vision_start|>, <|vision_end|>, <|image_pad|>) or "small" (~35 M parameters, the performance preset).
/// Throws seer::Error for another name.
VlmConfig preset_config(const std::string& name);

/// Writes a complete checkpoint folder for `preset`: config.json, generation_config.json,
/// model.safetensors (random init from `seed`), tokenizer.json (byte-level BPE without merges),
/// tokenizer_config.json (ChatML template) and preprocessor_config.json (CLIP, or Qwen2-VL's processor).
/// Refuses a non-empty `dir` unless `overwrite`. Throws seer::Error.
void init_model(const std::string& preset, const std::string& dir, uint64_t seed, bool overwrite);

}  // namespace seer::model
