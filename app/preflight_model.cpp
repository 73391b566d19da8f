// Preflight of a model folder: config.json, safetensors headers against the config, tokenizer, chat template,
// image processor, image token and EOS ids (app/preflight.h).
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/preflight.h"
#include "core/check.h"
#include "model/expected_tensors.h"
#include "model/image_processor.h"
#include "model/safetensors.h"
#include "model/tokenizer.h"

namespace seer::app {
namespace {

namespace fs = std::filesystem;

constexpr size_t kListed = 5;  ///< problems of one kind printed one per line; the rest are counted

bool floating(const std::string& dtype) { return dtype == "F32" || dtype == "F16" || dtype == "BF16" || dtype == "F64"; }

/// Safetensors headers against the tensors `config` implies.
void check_weights(const std::string& dir, const model::VlmConfig& config, Findings& f) {
  std::unique_ptr<model::CheckpointReader> reader;
  try {
    reader = std::make_unique<model::CheckpointReader>(dir);
  } catch (const Error& e) {
    f.error(dir, e.what());
    return;
  }
  std::vector<std::string> missing, wrong_shape, wrong_dtype;
  std::set<std::string> expected;
  for (const auto& t : model::expected_tensors(config)) {
    expected.insert(t.name);
    const model::TensorEntry* e = reader->entry(t.name);
    if (e == nullptr) {
      missing.push_back(t.name);
    } else if (e->shape != t.shape) {
      wrong_shape.push_back(fmt::format("tensor '{}' has shape [{}], but config.json implies [{}]", t.name,
                                        fmt::join(e->shape, ", "), fmt::join(t.shape, ", ")));
    } else if (!floating(e->dtype)) {
      wrong_dtype.push_back(fmt::format("tensor '{}' has dtype {}; weights must be F32, F16, BF16 or F64", t.name, e->dtype));
    }
  }
  if (!missing.empty()) {
    f.error(dir, fmt::format("{} of the {} tensors config.json ({}) implies are missing: {}{}", missing.size(),
                             expected.size(), config.architecture,
                             fmt::join(missing.begin(), missing.begin() + std::min(missing.size(), kListed), ", "),
                             missing.size() > kListed ? ", ..." : ""));
  }
  for (auto* list : {&wrong_shape, &wrong_dtype}) {
    for (size_t i = 0; i < list->size() && i < kListed; ++i) f.error(dir, (*list)[i]);
    if (list->size() > kListed) f.error(dir, fmt::format("... and {} more tensors like that", list->size() - kListed));
  }
  int extra = 0;
  std::string example;
  for (const auto& name : reader->names()) {
    if (expected.count(name) || name == config.text_prefix() + "lm_head.weight") continue;
    if (extra++ == 0) example = name;
  }
  if (extra > 0) f.note(dir, fmt::format("{} tensors seer does not use (e.g. '{}'); they are skipped", extra, example));
}

}  // namespace

std::optional<model::VlmConfig> check_model_folder(const std::string& field, const std::string& dir,
                                                   const ExperimentConfig& cfg, bool weights_only, Findings& f,
                                                   std::optional<model::ModelInputs>* inputs) {
  if (dir.empty()) {
    f.error(field, "is empty; set it to a Hugging Face checkpoint folder (config.json, safetensors, tokenizer)");
    return std::nullopt;
  }
  if (!fs::is_directory(dir)) {
    f.error(field, fmt::format("'{}' {}", dir, fs::exists(dir) ? "is not a folder" : "does not exist"));
    return std::nullopt;
  }
  const std::string config_json = (fs::path(dir) / "config.json").string();
  if (!fs::exists(config_json)) {
    f.error(config_json, "missing: the folder is not a Hugging Face checkpoint");
    return std::nullopt;
  }
  model::VlmConfig config;
  try {
    config = model::load_hf_config(dir);
  } catch (const Error& e) {
    f.error(field, e.what());
    return std::nullopt;
  }
  check_weights(dir, config, f);
  if (weights_only) return config;

  const std::string tokenizer_json = (fs::path(dir) / "tokenizer.json").string();
  std::optional<model::Tokenizer> tokenizer;
  if (!fs::exists(tokenizer_json)) {
    f.error(tokenizer_json, "missing: prompts cannot be tokenized (copy the checkpoint's tokenizer files)");
  } else {
    try {
      tokenizer = model::Tokenizer::from_file(tokenizer_json);
    } catch (const Error& e) {
      f.error(tokenizer_json, e.what());
    }
  }
  bool processor_ok = true;
  if (config.has_vision) {
    const std::string pp = (fs::path(dir) / "preprocessor_config.json").string();
    processor_ok = false;
    if (!fs::exists(pp)) {
      f.error(pp, "missing: a vision model needs its image processor settings");
    } else {
      try {
        (void)model::load_processor_config(dir);
        processor_ok = true;
      } catch (const Error& e) {
        f.error(pp, e.what());
      }
    }
  }
  if (!tokenizer) return config;
  if (tokenizer->vocab_size() > config.text.vocab_size) {
    f.error(tokenizer_json, fmt::format("has ids up to {}, but config.json's vocab_size is {}: those tokens have no "
                                        "embedding", tokenizer->vocab_size() - 1, config.text.vocab_size));
  }
  if (config.has_vision && tokenizer->id_to_token(static_cast<int32_t>(config.image_token_index)).empty()) {
    f.error(config_json, fmt::format("image_token_index {} is not a token of tokenizer.json: image placeholders "
                                     "could not be written", config.image_token_index));
  }
  if (!processor_ok) return config;
  try {  // chat template, special tokens, EOS ids, processor/tower agreement: exactly what the run will load
    auto loaded = model::ModelInputs::load(dir, config, model::input_options(cfg));
    if (inputs != nullptr) inputs->emplace(std::move(loaded));
  } catch (const Error& e) {
    f.error(field, e.what());
  }
  return config;
}

}  // namespace seer::app
