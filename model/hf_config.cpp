#include "model/hf_config.h"

#include <filesystem>

#include "core/atomic_file.h"
#include "core/check.h"
#include "model/qwen2vl_config.h"

namespace seer::model {
namespace {

template <class T>
T required(const nlohmann::json& j, const char* key, const std::string& where) {
  SEER_CHECK(j.contains(key) && !j[key].is_null(), "{}: missing '{}'", where, key);
  try {
    return j[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    SEER_FAIL("{}: '{}' has the wrong type ({})", where, key, j[key].dump());
  }
}

template <class T>
T optional(const nlohmann::json& j, const char* key, T fallback, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  return required<T>(j, key, where);
}

std::vector<int64_t> id_list(const nlohmann::json& v) {
  std::vector<int64_t> out;
  if (v.is_number_integer()) out.push_back(v.get<int64_t>());
  if (v.is_array()) {
    for (const auto& x : v) {
      if (x.is_number_integer()) out.push_back(x.get<int64_t>());
    }
  }
  return out;
}

}  // namespace

TextConfig parse_text_config(const nlohmann::json& j, const std::string& where) {
  TextConfig t;
  t.model_type = required<std::string>(j, "model_type", where);
  const bool multimodal_rope = t.model_type == "qwen2_vl" || t.model_type == "qwen2_5_vl";  // Qwen2(.5)-VL text
  SEER_CHECK(t.model_type == "llama" || t.model_type == "qwen2" || multimodal_rope,
             "{}: text model_type '{}' is not supported (seer supports llama, qwen2, qwen2_vl and qwen2_5_vl)", where,
             t.model_type);
  t.vocab_size = required<int64_t>(j, "vocab_size", where);
  t.hidden_size = required<int64_t>(j, "hidden_size", where);
  t.intermediate_size = required<int64_t>(j, "intermediate_size", where);
  t.num_hidden_layers = required<int64_t>(j, "num_hidden_layers", where);
  t.num_attention_heads = required<int64_t>(j, "num_attention_heads", where);
  t.num_key_value_heads = optional<int64_t>(j, "num_key_value_heads", t.num_attention_heads, where);
  t.head_dim = optional<int64_t>(j, "head_dim", t.hidden_size / t.num_attention_heads, where);
  t.max_position_embeddings = optional<int64_t>(j, "max_position_embeddings", 4096, where);
  t.rms_norm_eps = optional<double>(j, "rms_norm_eps", 1e-6, where);
  t.rope_theta = optional<double>(j, "rope_theta", 10000.0, where);
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) {
    // transformers >= 5 writes rope_theta (and the rope type) inside rope_parameters.
    const auto& rp = j["rope_parameters"];
    if (!j.contains("rope_theta")) t.rope_theta = optional<double>(rp, "rope_theta", 10000.0, where + " rope_parameters");
    const std::string type = optional<std::string>(rp, "rope_type", "default", where + " rope_parameters");
    SEER_CHECK(type == "default" || (multimodal_rope && type == "mrope"),
               "{}: rope_parameters.rope_type '{}' is not supported yet (plain RoPE only)", where, type);
  }
  t.attention_bias = t.model_type != "llama" ? true : optional<bool>(j, "attention_bias", false, where);
  t.mlp_bias = optional<bool>(j, "mlp_bias", false, where);
  t.tie_word_embeddings = optional<bool>(j, "tie_word_embeddings", t.model_type == "qwen2", where);
  t.bos_token_id = optional<int64_t>(j, "bos_token_id", -1, where);
  t.pad_token_id = optional<int64_t>(j, "pad_token_id", -1, where);
  if (j.contains("eos_token_id")) t.eos_token_ids = id_list(j["eos_token_id"]);
  const std::string act = optional<std::string>(j, "hidden_act", "silu", where);
  SEER_CHECK(act == "silu", "{}: hidden_act '{}' is not supported (seer's decoder MLP is SwiGLU with silu)", where, act);
  if (multimodal_rope) {
    t.mrope_section = parse_mrope_section(j, t.head_dim, where);
    const auto& rs = j["rope_scaling"];
    const std::string type = rs.value("rope_type", rs.value("type", std::string("default")));
    SEER_CHECK(type == "default" || type == "mrope", "{}: rope_scaling type '{}' is not supported with M-RoPE", where,
               type);
  } else {
    SEER_CHECK(!j.contains("rope_scaling") || j["rope_scaling"].is_null(),
               "{}: rope_scaling {} is not supported yet (plain RoPE only)", where,
               j.contains("rope_scaling") ? j["rope_scaling"].dump() : "");
  }
  SEER_CHECK(!optional<bool>(j, "use_sliding_window", false, where),
             "{}: use_sliding_window is not supported (full attention only)", where);
  SEER_CHECK(optional<int64_t>(j, "pretraining_tp", 1, where) == 1, "{}: pretraining_tp > 1 is not supported", where);
  SEER_CHECK(t.num_attention_heads > 0 && t.num_key_value_heads > 0 && t.num_attention_heads % t.num_key_value_heads == 0,
             "{}: num_attention_heads {} must be a multiple of num_key_value_heads {}", where, t.num_attention_heads,
             t.num_key_value_heads);
  SEER_CHECK(t.head_dim % 2 == 0, "{}: head_dim {} must be even for RoPE", where, t.head_dim);
  return t;
}

namespace {

VisionConfig parse_vision(const nlohmann::json& j, const std::string& where) {
  VisionConfig v;
  v.model_type = required<std::string>(j, "model_type", where);
  SEER_CHECK(v.model_type == "clip_vision_model" || v.model_type == "siglip_vision_model",
             "{}: vision model_type '{}' is not supported (seer supports clip_vision_model and siglip_vision_model)",
             where, v.model_type);
  v.hidden_size = required<int64_t>(j, "hidden_size", where);
  v.intermediate_size = required<int64_t>(j, "intermediate_size", where);
  v.num_hidden_layers = required<int64_t>(j, "num_hidden_layers", where);
  v.num_attention_heads = required<int64_t>(j, "num_attention_heads", where);
  v.image_size = required<int64_t>(j, "image_size", where);
  v.patch_size = required<int64_t>(j, "patch_size", where);
  v.num_channels = optional<int64_t>(j, "num_channels", 3, where);
  v.layer_norm_eps = optional<double>(j, "layer_norm_eps", v.model_type == "clip_vision_model" ? 1e-5 : 1e-6, where);
  v.hidden_act = optional<std::string>(j, "hidden_act", v.model_type == "clip_vision_model" ? "quick_gelu"
                                                                                               : "gelu_pytorch_tanh", where);
  SEER_CHECK(v.hidden_act == "quick_gelu" || v.hidden_act == "gelu_pytorch_tanh" || v.hidden_act == "gelu",
             "{}: vision hidden_act '{}' is not supported", where, v.hidden_act);
  SEER_CHECK(v.patch_size > 0 && v.image_size % v.patch_size == 0, "{}: image_size {} is not a multiple of patch_size {}",
             where, v.image_size, v.patch_size);
  SEER_CHECK(v.hidden_size % v.num_attention_heads == 0, "{}: hidden_size {} not divisible by num_attention_heads {}",
             where, v.hidden_size, v.num_attention_heads);
  return v;
}

}  // namespace

int64_t VlmConfig::image_feature_count() const {
  if (dynamic_resolution()) return 0;
  const int64_t patches = vision.num_patches();
  return vision.class_token() && vision_feature_select_strategy == "full" ? patches + 1 : patches;
}

std::vector<std::string> VlmConfig::vision_tower_prefixes() const {
  if (dynamic_resolution()) return {"visual.patch_embed.", "visual.blocks."};
  return has_vision ? std::vector<std::string>{"vision_tower."} : std::vector<std::string>{};
}

std::vector<std::string> VlmConfig::projector_prefixes() const {
  if (dynamic_resolution()) return {"visual.merger."};
  return has_vision ? std::vector<std::string>{"multi_modal_projector."} : std::vector<std::string>{};
}

VlmConfig parse_hf_config(const nlohmann::json& j, const std::string& where) {
  SEER_CHECK(j.is_object(), "{}: must be a JSON object", where);
  VlmConfig c;
  c.raw = j;
  std::vector<std::string> archs;
  if (j.contains("architectures") && j["architectures"].is_array()) {
    for (const auto& a : j["architectures"]) {
      if (a.is_string()) archs.push_back(a.get<std::string>());
    }
  }
  const std::string model_type = optional<std::string>(j, "model_type", "", where);
  if (model_type == "llava" || (!archs.empty() && archs[0] == "LlavaForConditionalGeneration")) {
    c.architecture = "LlavaForConditionalGeneration";
    c.has_vision = true;
    SEER_CHECK(j.contains("vision_config") && j.contains("text_config"), "{}: llava needs vision_config and text_config",
               where);
    c.vision = parse_vision(j["vision_config"], where + " vision_config");
    c.text = parse_text_config(j["text_config"], where + " text_config");
    // LLaVA ties through the text model's setting (modeling_llava.py: tie_weights -> language_model).
    c.projector_hidden_act = optional<std::string>(j, "projector_hidden_act", "gelu", where);
    SEER_CHECK(c.projector_hidden_act == "gelu" || c.projector_hidden_act == "gelu_pytorch_tanh" ||
                   c.projector_hidden_act == "quick_gelu" || c.projector_hidden_act == "silu",
               "{}: projector_hidden_act '{}' is not supported", where, c.projector_hidden_act);
    SEER_CHECK(!j.contains("vision_feature_layer") || j["vision_feature_layer"].is_number_integer(),
               "{}: vision_feature_layer must be one layer index (lists of layers are not supported)", where);
    c.vision_feature_layer = optional<int64_t>(j, "vision_feature_layer", -2, where);
    c.vision_feature_select_strategy = optional<std::string>(j, "vision_feature_select_strategy", "default", where);
    SEER_CHECK(c.vision_feature_select_strategy == "default" || c.vision_feature_select_strategy == "full",
               "{}: vision_feature_select_strategy '{}' is not supported (default or full)", where,
               c.vision_feature_select_strategy);
    const int64_t layers = c.vision.num_hidden_layers;
    SEER_CHECK(c.vision_feature_layer >= -(layers + 1) && c.vision_feature_layer <= layers,
               "{}: vision_feature_layer {} is outside the {} hidden states of the vision tower", where,
               c.vision_feature_layer, layers + 1);
    c.image_token_index = j.contains("image_token_index") ? required<int64_t>(j, "image_token_index", where)
                                                          : optional<int64_t>(j, "image_token_id", -1, where);
    SEER_CHECK(c.image_token_index >= 0 && c.image_token_index < c.text.vocab_size,
               "{}: image_token_index {} must be a token id below vocab_size {}", where, c.image_token_index,
               c.text.vocab_size);
    if (c.text.pad_token_id < 0) c.text.pad_token_id = optional<int64_t>(j, "pad_token_id", -1, where);
  } else if (model_type == "qwen2_vl" || model_type == "qwen2_5_vl" ||
             (!archs.empty() && (archs[0] == "Qwen2VLForConditionalGeneration" ||
                                 archs[0] == "Qwen2_5_VLForConditionalGeneration"))) {
    // modeling_qwen2_vl.py v4.45 / modeling_qwen2_5_vl.py v4.49: the text keys at the top level, the vision
    // tower in vision_config.
    const bool v25 = model_type == "qwen2_5_vl" || (!archs.empty() && archs[0] == "Qwen2_5_VLForConditionalGeneration");
    c.architecture = v25 ? "Qwen2_5_VLForConditionalGeneration" : "Qwen2VLForConditionalGeneration";
    c.has_vision = true;
    SEER_CHECK(j.contains("vision_config"), "{}: {} needs vision_config", where, model_type);
    // transformers >= 4.52 may write the decoder keys into text_config instead of the top level.
    if (!j.contains("num_hidden_layers") && j.contains("text_config") && j["text_config"].is_object()) {
      nlohmann::json text = j["text_config"];
      text["model_type"] = v25 ? "qwen2_5_vl" : "qwen2_vl";  // there: "qwen2_5_vl_text" and the like
      c.text = parse_text_config(text, where + " text_config");
    } else {
      c.text = parse_text_config(j, where);
    }
    c.qwen_vision = parse_qwen2_vision_config(j["vision_config"], where + " vision_config", v25);
    SEER_CHECK(c.qwen_vision.out_dim == c.text.hidden_size,
               "{}: vision_config.hidden_size {} (the merger's output) must equal the text hidden_size {}", where,
               c.qwen_vision.out_dim, c.text.hidden_size);
    c.image_token_index = required<int64_t>(j, "image_token_id", where);
    c.vision_start_token_id = required<int64_t>(j, "vision_start_token_id", where);
    c.vision_end_token_id = optional<int64_t>(j, "vision_end_token_id", -1, where);
    for (const auto& [key, id] : {std::pair<const char*, int64_t>{"image_token_id", c.image_token_index},
                                  {"vision_start_token_id", c.vision_start_token_id}}) {
      SEER_CHECK(id >= 0 && id < c.text.vocab_size, "{}: {} {} must be a token id below vocab_size {}", where, key, id,
                 c.text.vocab_size);
    }
  } else if (model_type == "llama" || model_type == "qwen2") {
    c.architecture = model_type == "llama" ? "LlamaForCausalLM" : "Qwen2ForCausalLM";
    c.text = parse_text_config(j, where);
  } else {
    SEER_FAIL("{}: architecture {} (model_type '{}') is not supported: seer loads LlavaForConditionalGeneration, "
              "Qwen2VLForConditionalGeneration, Qwen2_5_VLForConditionalGeneration, LlamaForCausalLM and Qwen2ForCausalLM",
              where, archs.empty() ? "?" : archs[0], model_type);
  }
  return c;
}

VlmConfig load_hf_config(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string path = (fs::path(dir) / "config.json").string();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    SEER_FAIL("{}: not valid JSON: {}", path, e.what());
  }
  VlmConfig c = parse_hf_config(j, path);
  const std::string gen = (fs::path(dir) / "generation_config.json").string();
  if (fs::exists(gen)) {
    try {
      const auto g = nlohmann::json::parse(read_file(gen));
      if (g.contains("eos_token_id")) {
        for (int64_t id : id_list(g["eos_token_id"])) {
          if (std::find(c.text.eos_token_ids.begin(), c.text.eos_token_ids.end(), id) == c.text.eos_token_ids.end()) {
            c.text.eos_token_ids.push_back(id);
          }
        }
      }
    } catch (const nlohmann::json::exception& e) {
      SEER_FAIL("{}: not valid JSON: {}", gen, e.what());
    }
  }
  return c;
}

}  // namespace seer::model
