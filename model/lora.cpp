#include "model/lora.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <torch/nn/module.h>
#include <torch/torch.h>

#include "core/atomic_file.h"
#include "core/check.h"
#include "core/config.h"
#include "model/linear.h"
#include "model/safetensors.h"

namespace seer::model {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPeftPrefix = "base_model.model.";  // PeftModel -> LoraModel -> the HF model

bool starts_with_any(const std::string& name, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (name.rfind(p, 0) == 0) return true;
  }
  return false;
}

/// Every seer Linear under `root` by module path ("" = root itself is not a Linear here).
std::vector<std::pair<std::string, LinearImpl*>> linear_modules(torch::nn::Module& root) {
  std::vector<std::pair<std::string, LinearImpl*>> out;
  for (const auto& item : root.named_modules("", /*include_self=*/false)) {
    if (auto* lin = item.value()->as<LinearImpl>()) {
      const std::string& key = item.key();
      if (key.size() >= 7 && (key.compare(key.size() - 7, 7, ".lora_A") == 0 || key.compare(key.size() - 7, 7, ".lora_B") == 0)) {
        continue;  // an adapter's own factors are not targets
      }
      out.emplace_back(key, lin);
    }
  }
  return out;
}

std::string escape_regex(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (std::string_view(".^$*+?()[]{}|\\").find(ch) != std::string_view::npos) out += '\\';
    out += ch;
  }
  return out;
}

}  // namespace

LoraSpec lora_spec(const LoraConfig& config) {
  LoraSpec s;
  s.rank = config.rank;
  s.alpha = config.alpha;
  s.dropout = config.dropout;
  s.target_modules = config.target_modules;
  return s;
}

bool lora_targets(const std::string& module_name, const std::vector<std::string>& targets) {
  for (const auto& t : targets) {
    if (module_name == t) return true;
    if (module_name.size() > t.size() && module_name.compare(module_name.size() - t.size(), t.size(), t) == 0 &&
        module_name[module_name.size() - t.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

bool is_lora_parameter(const std::string& name) {
  return name.find(".lora_A.") != std::string::npos || name.find(".lora_B.") != std::string::npos;
}

std::vector<std::string> add_lora_adapters(torch::nn::Module& root, const LoraSpec& spec,
                                           const std::function<std::string(const std::string&)>& hf_name,
                                           const std::vector<std::string>& excluded_prefixes) {
  SEER_CHECK(spec.rank >= 1, "model.lora.rank must be at least 1 to add adapters, got {}", spec.rank);
  std::vector<std::string> adapted, candidates;
  for (auto& [key, lin] : linear_modules(root)) {
    const std::string name = hf_name(key);
    if (starts_with_any(name, excluded_prefixes)) continue;
    candidates.push_back(name);
    if (!lora_targets(name, spec.target_modules)) continue;
    lin->add_lora(spec.rank, spec.alpha, spec.dropout);
    adapted.push_back(name);
  }
  if (adapted.empty()) {
    std::set<std::string> suffixes;  // "q_proj", "linear_1", ...: what a user can name
    for (const auto& c : candidates) suffixes.insert(c.substr(c.rfind('.') + 1));
    SEER_FAIL("model.lora.target_modules [{}] matches none of the decoder's or projector's linear layers; they are "
              "named {}", fmt::join(spec.target_modules, ", "), fmt::join(suffixes, ", "));
  }
  std::sort(adapted.begin(), adapted.end());
  return adapted;
}

void merge_lora_adapters(torch::nn::Module& root) {
  for (auto& [key, lin] : linear_modules(root)) {
    if (lin->has_lora()) lin->merge_lora();
  }
}

nlohmann::json peft_adapter_config(const LoraSpec& spec, const std::string& base_model,
                                   const std::vector<std::string>& adapted_modules) {
  // PEFT fullmatches a string target_modules against each module's full name. Group the adapted names by
  // their last part (q_proj, v_proj, ...) and give each group the exact parents it was found under.
  std::map<std::string, std::set<std::string>> by_leaf;
  for (const auto& m : adapted_modules) {
    const auto dot = m.rfind('.');
    by_leaf[m.substr(dot + 1)].insert(dot == std::string::npos ? "" : m.substr(0, dot));
  }
  std::vector<std::string> parts;
  for (const auto& [leaf, parents] : by_leaf) {
    // Parents differ only by layer index for a decoder: replace runs of digits by \d+ and deduplicate.
    std::set<std::string> patterns;
    for (const auto& p : parents) {
      std::string pat;
      for (size_t i = 0; i < p.size();) {
        if (std::isdigit(static_cast<unsigned char>(p[i]))) {
          while (i < p.size() && std::isdigit(static_cast<unsigned char>(p[i]))) ++i;
          pat += "\\d+";
        } else {
          pat += escape_regex(std::string(1, p[i]));
          ++i;
        }
      }
      patterns.insert(pat.empty() ? escape_regex(leaf) : pat + "\\." + escape_regex(leaf));
    }
    for (const auto& p : patterns) parts.push_back(p);
  }
  // one fmt::format, not string concatenation: GCC 12 at -O3 warned (-Wstringop-overflow, a false positive) on
  // "(" + ... + ")"
  const std::string regex = parts.size() == 1 ? parts.front() : fmt::format("({})", fmt::join(parts, "|"));
  // The keys and defaults of PEFT's LoraConfig.to_dict() as peft 0.21.2 writes them (tests/golden/peft-lora holds
  // a folder it wrote); seer supports the plain LoRA subset and writes the others at their defaults.
  return nlohmann::json{
      {"alora_invocation_tokens", nullptr},
      {"alpha_pattern", nlohmann::json::object()},
      {"arrow_config", nullptr},
      {"auto_mapping", nullptr},
      {"base_model_name_or_path", base_model},
      {"bias", "none"},
      {"corda_config", nullptr},
      {"ensure_weight_tying", false},
      {"eva_config", nullptr},
      {"exclude_modules", nullptr},
      {"fan_in_fan_out", false},
      {"inference_mode", true},
      {"init_lora_weights", true},
      {"kasa_config", nullptr},
      {"layer_replication", nullptr},
      {"layers_pattern", nullptr},
      {"layers_to_transform", nullptr},
      {"loftq_config", nlohmann::json::object()},
      {"lora_alpha", spec.alpha},
      {"lora_bias", false},
      {"lora_dropout", spec.dropout},
      {"lora_ga_config", nullptr},
      {"megatron_config", nullptr},
      {"megatron_core", "megatron.core"},
      {"modules_to_save", nullptr},
      {"monteclora_config", nullptr},
      {"peft_type", "LORA"},
      {"peft_version", "0.21.2"},
      {"qalora_group_size", 16},
      {"r", spec.rank},
      {"rank_pattern", nlohmann::json::object()},
      {"revision", nullptr},
      {"target_modules", regex},
      {"target_parameters", nullptr},
      {"task_type", "CAUSAL_LM"},
      {"trainable_token_indices", nullptr},
      {"use_bdlora", nullptr},
      {"use_dora", false},
      {"use_qalora", false},
      {"use_rslora", false},
      {"velora_config", nullptr},
  };
}

void write_peft_adapter(const std::string& dir, const nlohmann::json& adapter_config,
                        const std::map<std::string, at::Tensor>& adapters) {
  fs::create_directories(dir);
  std::map<std::string, at::Tensor> renamed;
  for (const auto& [name, t] : adapters) {
    SEER_CHECK(is_lora_parameter(name), "write_peft_adapter: '{}' is not an adapter tensor", name);
    renamed[kPeftPrefix + name] = t.detach().to(at::kCPU);
  }
  write_safetensors((fs::path(dir) / "adapter_model.safetensors").string(), renamed);
  write_file_atomic((fs::path(dir) / "adapter_config.json").string(), adapter_config.dump(2) + "\n");
}

bool is_peft_adapter_dir(const std::string& dir) { return fs::exists(fs::path(dir) / "adapter_config.json"); }

PeftAdapter read_peft_adapter(const std::string& dir) {
  const std::string config_path = (fs::path(dir) / "adapter_config.json").string();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(config_path));
  } catch (const nlohmann::json::exception& e) {
    SEER_FAIL("{}: not valid JSON ({})", config_path, e.what());
  }
  SEER_CHECK(j.is_object(), "{}: expected a JSON object", config_path);
  auto field = [&](const char* key) -> const nlohmann::json& {
    SEER_CHECK(j.contains(key), "{}: no '{}'", config_path, key);
    return j.at(key);
  };
  auto must_be = [&](const char* key, const nlohmann::json& expected) {
    if (j.contains(key) && !j.at(key).is_null() && j.at(key) != expected) {
      SEER_FAIL("{}: '{}' is {}; seer reads plain LoRA adapters ({} = {})", config_path, key, j.at(key).dump(), key,
                expected.dump());
    }
  };
  must_be("peft_type", "LORA");
  must_be("bias", "none");
  must_be("use_dora", false);
  must_be("fan_in_fan_out", false);
  must_be("use_rslora", false);
  must_be("rank_pattern", nlohmann::json::object());
  must_be("alpha_pattern", nlohmann::json::object());
  must_be("lora_bias", false);
  must_be("use_qalora", false);
  must_be("layer_replication", nullptr);
  must_be("trainable_token_indices", nullptr);
  must_be("modules_to_save", nullptr);
  PeftAdapter a;
  SEER_CHECK(field("r").is_number_integer() && field("r").get<int64_t>() >= 1, "{}: 'r' must be an integer >= 1",
             config_path);
  a.spec.rank = field("r").get<int64_t>();
  SEER_CHECK(field("lora_alpha").is_number(), "{}: 'lora_alpha' must be a number", config_path);
  a.spec.alpha = field("lora_alpha").get<double>();
  a.spec.dropout = j.value("lora_dropout", 0.0);
  const std::string base = field("base_model_name_or_path").is_string() ? field("base_model_name_or_path").get<std::string>() : "";
  SEER_CHECK(!base.empty(), "{}: 'base_model_name_or_path' must name the base model's folder", config_path);
  a.base_model = fs::path(base).is_relative() && fs::exists(fs::path(dir) / base) ? (fs::path(dir) / base).string() : base;

  const std::string weights = (fs::path(dir) / "adapter_model.safetensors").string();
  SafetensorsFile file(weights);
  const std::string prefix = kPeftPrefix;
  for (const auto& [name, entry] : file.entries()) {
    SEER_CHECK(name.rfind(prefix, 0) == 0 && is_lora_parameter(name), "{}: tensor '{}' is not a LoRA factor under '{}'",
               weights, name, prefix);
    a.tensors[name.substr(prefix.size())] = file.tensor(name);
  }
  SEER_CHECK(!a.tensors.empty(), "{}: holds no adapter tensors", weights);
  std::set<std::string> modules;
  for (const auto& [name, t] : a.tensors) modules.insert(name.substr(0, name.find(".lora_")));
  // Adapt exactly the modules the file holds (whatever form target_modules took in the config).
  a.spec.target_modules.assign(modules.begin(), modules.end());
  return a;
}

}  // namespace seer::model
