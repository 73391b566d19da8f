#include "model/inputs.h"

#include <algorithm>
#include <filesystem>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/check.h"
#include "model/qwen2vl_patches.h"

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
    in.fixed_image_tokens_ = config.image_feature_count();  // 0 for Qwen2-VL: the count comes with each image
    in.processor_ = load_processor_config(model_dir);
    const std::string pp = (fs::path(model_dir) / "preprocessor_config.json").string();
    if (config.dynamic_resolution()) {
      // The tower's patch shape and the processor's must agree, or every image would be cut wrongly.
      const auto& v = config.qwen_vision;
      const ProcessorConfig& p = in.processor_;
      SEER_CHECK(p.dynamic_resolution(), "{}: {} needs a Qwen2VLImageProcessor, not {}", pp, config.architecture, p.type);
      SEER_CHECK(p.patch_size == v.patch_size && p.merge_size == v.spatial_merge_size &&
                     p.temporal_patch_size == v.temporal_patch_size,
                 "{}: patch_size {}, merge_size {}, temporal_patch_size {} differ from config.json's vision_config "
                 "({}, {}, {})", pp, p.patch_size, p.merge_size, p.temporal_patch_size, v.patch_size,
                 v.spatial_merge_size, v.temporal_patch_size);
    } else {
      SEER_CHECK(!in.processor_.dynamic_resolution(), "{}: {} takes fixed-size images, not {}", pp, config.architecture,
                 in.processor_.type);
    }
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

PromptSpec ModelInputs::spec_for(const std::vector<int64_t>& image_tokens, const std::string& sample) const {
  PromptSpec spec = spec_;
  SEER_CHECK(image_tokens.empty() || has_vision_, "{}: the model has no vision tower, so rows with images cannot be used",
             sample);
  for (int64_t n : image_tokens) {
    SEER_CHECK(n > 0, "{}: an image with {} placeholder tokens (seer bug: pass image_tokens(pixel_values))", sample, n);
  }
  spec.image_tokens = image_tokens;
  return spec;
}

PromptTokens ModelInputs::prompt(const std::string& question, const std::vector<int64_t>& image_tokens,
                                 const std::string& sample) const {
  // LLaVA-1.5 writes the images on their own line before the question ("<image>\n..."), as the SFT rows do;
  // Qwen2-VL's template puts the vision tokens directly before the text.
  const std::string separator = is_qwen_family(spec_.family) ? "" : "\n";
  return build_prompt(tokenizer_, spec_for(image_tokens, sample),
                      question_parts(question, image_tokens.size(), separator, sample), sample);
}

SftExample ModelInputs::sft_example(const std::vector<std::pair<std::string, std::string>>& turns,
                                    const std::vector<int64_t>& image_tokens, const std::string& sample) const {
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
  return build_sft_example(tokenizer_, spec_for(image_tokens, sample), messages, sample);
}

PromptImages ModelInputs::images(const std::vector<std::string>& paths) const {
  PromptImages out;
  for (const std::string& path : paths) {
    out.geometry.emplace_back();
    out.pixel_values.push_back(pixel_values(path, &out.geometry.back()));
    out.tokens.push_back(image_tokens(out.pixel_values.back()));
  }
  return out;
}

at::Tensor ModelInputs::pixel_values(const std::string& path, ImageGeometry* geometry) const {
  SEER_CHECK(has_vision_, "{}: the model has no vision tower, so rows with images cannot be used", path);
  const RgbImage image = decode_image_file(path, options_.alpha, options_.limits);
  PixelValues pv = preprocess(image, processor_, path);
  if (geometry) *geometry = {image.width, image.height, pv.width, pv.height};
  if (processor_.dynamic_resolution()) {
    const VisionPatches p = to_patches(pv, processor_, path);
    at::Tensor t = at::empty({1, p.grid_t, p.grid_h, p.grid_w, p.patch_dim}, at::kFloat);
    std::copy(p.values.begin(), p.values.end(), t.data_ptr<float>());
    return t;
  }
  at::Tensor t = at::empty({1, pv.channels, pv.height, pv.width}, at::kFloat);
  std::copy(pv.values.begin(), pv.values.end(), t.data_ptr<float>());
  return t;
}

std::string ModelInputs::image_inputs() const {
  if (!has_vision_) return "";
  const ProcessorConfig& p = processor_;
  std::string out = fmt::format("{} resize={} rescale={} normalize={} mean={:.8g},{:.8g},{:.8g} std={:.8g},{:.8g},{:.8g}",
                                p.type, p.do_resize, p.do_rescale ? p.rescale_factor : 0.0, p.do_normalize, p.mean[0],
                                p.mean[1], p.mean[2], p.std[0], p.std[1], p.std[2]);
  if (p.dynamic_resolution()) {
    out += fmt::format(" min_pixels={} max_pixels={} patch={} merge={} temporal={}", p.min_pixels, p.max_pixels,
                       p.patch_size, p.merge_size, p.temporal_patch_size);
  } else {
    out += fmt::format(" shortest_edge={} size={}x{} crop={}x{} tokens={}", p.shortest_edge, p.resize_height,
                       p.resize_width, p.do_center_crop ? p.crop_height : 0, p.do_center_crop ? p.crop_width : 0,
                       fixed_image_tokens_);
  }
  out += fmt::format(" alpha={} max_decoded_pixels={}", options_.alpha == AlphaMode::kDrop ? "drop" : "white",
                     options_.limits.max_pixels);
  return out;
}

int64_t ModelInputs::image_tokens(const at::Tensor& pixel_values) const {
  if (!processor_.dynamic_resolution()) return fixed_image_tokens_;
  SEER_CHECK(pixel_values.dim() == 5, "image_tokens: expected a (1, t, h, w, patch_dim) patch grid");
  const int64_t m = processor_.merge_size;
  return pixel_values.size(1) * pixel_values.size(2) * pixel_values.size(3) / (m * m);
}

}  // namespace seer::model
