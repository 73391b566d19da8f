#include "model/inputs.h"

#include <algorithm>
#include <filesystem>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/check.h"

namespace seer::model {
namespace {

namespace fs = std::filesystem;

/// A special token of tokenizer_config.json: a string, an AddedToken object {"content": ...}, or null.
std::string token_string(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "";
  const auto& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return "";
}

bool is_qwen_family(ChatFamily f) { return f == ChatFamily::kQwen3 || f == ChatFamily::kQwen2Vl; }

}  // namespace

InputOptions input_options(const ExperimentConfig& c) {
  InputOptions o;
  o.chat_template = c.model.chat_template;
  o.system_prompt = c.model.system_prompt;
  o.assistant_prefill = c.model.assistant_prefill;
  o.max_prompt_tokens = c.data.max_prompt_tokens;
  o.alpha = c.image.alpha == "drop" ? AlphaMode::kDrop : AlphaMode::kWhite;
  o.limits.max_pixels = c.image.max_pixels;
  o.limits.max_file_bytes = c.image.max_file_bytes;
  return o;
}

ModelInputs ModelInputs::load(const std::string& model_dir, const VlmConfig& config, const InputOptions& options) {
  ModelInputs in(Tokenizer::from_file((fs::path(model_dir) / "tokenizer.json").string()));
  in.options_ = options;
  in.has_vision_ = config.has_vision;

  const std::string tc_path = (fs::path(model_dir) / "tokenizer_config.json").string();
  nlohmann::json tc = nlohmann::json::object();
  if (fs::exists(tc_path)) {
    try {
      tc = nlohmann::json::parse(read_file(tc_path));
    } catch (const nlohmann::json::exception& e) {
      SEER_FAIL("{}: not valid JSON: {}", tc_path, e.what());
    }
  }
  PromptSpec& spec = in.spec_;
  if (options.chat_template == "auto") {
    SEER_CHECK(tc.contains("chat_template") && tc["chat_template"].is_string(),
               "{}: no chat_template string; set model.chat_template to a family (chatml, qwen3, qwen2vl, llama3, "
               "llama2, llava, vicuna)", tc_path);
    try {
      spec.family = detect_chat_family(tc["chat_template"].get<std::string>());
    } catch (const Error& e) {
      SEER_FAIL("{}: {}", tc_path, e.what());
    }
  } else {
    spec.family = chat_family_by_name(options.chat_template);
  }
  spec.system_prompt = options.system_prompt;
  spec.assistant_prefill = options.assistant_prefill;
  spec.max_prompt_tokens = options.max_prompt_tokens;
  spec.bos_token = token_string(tc, "bos_token");
  spec.eos_token = token_string(tc, "eos_token");
  if (config.has_vision) {
    spec.image_token_id = static_cast<int32_t>(config.image_token_index);
    spec.image_features = config.image_feature_count();
    in.processor_ = load_processor_config(model_dir);
  }

  for (int64_t id : config.text.eos_token_ids) in.stop_ids_.push_back(id);
  for (const std::string& tok : {spec.eos_token, std::string("<|im_end|>"), std::string("<|eot_id|>")}) {
    if (tok.empty()) continue;
    const int32_t id = in.tokenizer_.token_to_id(tok);
    if (id >= 0 && std::find(in.stop_ids_.begin(), in.stop_ids_.end(), id) == in.stop_ids_.end()) in.stop_ids_.push_back(id);
  }
  SEER_CHECK(!in.stop_ids_.empty(), "{}: the model declares no EOS token (config.json eos_token_id or "
             "tokenizer_config.json eos_token); generation could not stop", model_dir);
  in.pad_id_ = config.text.pad_token_id >= 0 ? config.text.pad_token_id : in.stop_ids_.front();
  return in;
}

PromptTokens ModelInputs::prompt(const std::string& question, bool with_image, const std::string& sample) const {
  // LLaVA-1.5 writes the image on its own line before the question ("<image>\n..."), as the SFT rows do;
  // Qwen2-VL's template puts the vision tokens directly before the text.
  const std::string text = with_image && !is_qwen_family(spec_.family) ? "\n" + question : question;
  return build_prompt(tokenizer_, spec_, text, with_image, sample);
}

SftExample ModelInputs::sft_example(const std::vector<std::pair<std::string, std::string>>& turns,
                                    const std::string& sample) const {
  std::vector<ChatMessage> messages;
  if (!spec_.system_prompt.empty()) messages.push_back({"system", {{ChatPart::kText, spec_.system_prompt}}, {}, {}});
  static const std::string kImage = "<image>";
  for (const auto& [role, content] : turns) {
    ChatMessage m{role, {}, {}, {}};
    size_t pos = 0;
    while (true) {
      const size_t at = content.find(kImage, pos);
      const std::string text = content.substr(pos, at == std::string::npos ? std::string::npos : at - pos);
      if (!text.empty()) m.parts.push_back({ChatPart::kText, text});
      if (at == std::string::npos) break;
      m.parts.push_back({ChatPart::kImage, ""});
      pos = at + kImage.size();
    }
    messages.push_back(std::move(m));
  }
  return build_sft_example(tokenizer_, spec_, messages, sample);
}

at::Tensor ModelInputs::pixel_values(const std::string& path, ImageGeometry* geometry) const {
  SEER_CHECK(has_vision_, "{}: the model has no vision tower, so rows with images cannot be used", path);
  const RgbImage image = decode_image_file(path, options_.alpha, options_.limits);
  PixelValues pv = preprocess(image, processor_);
  if (geometry) *geometry = {image.width, image.height, pv.width, pv.height};
  at::Tensor t = at::empty({1, pv.channels, pv.height, pv.width}, at::kFloat);
  std::copy(pv.values.begin(), pv.values.end(), t.data_ptr<float>());
  return t;
}

}  // namespace seer::model
