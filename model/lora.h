// LoRA adapters (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models", eq. 3):
// h = W0 x + (alpha / r) · B A x, with A (r, in) and B (out, r) trained and W0 frozen. Stored and named as PEFT
// stores them (peft/tuners/lora/layer.py, peft/utils/save_and_load.py): the layer's parameters are
// `<module>.lora_A.weight` / `<module>.lora_B.weight`, the adapter file `adapter_model.safetensors` holds them as
// `base_model.model.<module>.lora_A.weight`, and `adapter_config.json` is PEFT's LoraConfig. The linear layer
// itself (model/linear.h) computes the adapter; this file picks the layers, names and files.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

namespace torch::nn {
class Module;
}

namespace seer {
struct LoraConfig;
}

namespace seer::model {

struct LoraSpec {
  int64_t rank = 0;      ///< r; 0 = no adapters
  double alpha = 16;     ///< scaling alpha / r (PEFT lora_alpha)
  double dropout = 0.0;  ///< dropout on the adapter input while training (PEFT lora_dropout)
  std::vector<std::string> target_modules;  ///< PEFT names: "q_proj" adapts every module named *.q_proj
};

/// The config's `model.lora` section as a spec.
LoraSpec lora_spec(const LoraConfig& config);

/// PEFT's rule for a list of target_modules (peft/tuners/tuners_utils.py check_target_module_exists): the
/// module's full name equals a target or ends with "." + target.
bool lora_targets(const std::string& module_name, const std::vector<std::string>& targets);

/// Adds an adapter to every seer Linear under `root` whose Hugging Face name (`hf_name` of the module path)
/// matches spec.target_modules and does not start with one of `excluded_prefixes` (the vision tower).
/// Returns the adapted modules' HF names, sorted. Throws seer::Error when nothing matches (naming some
/// linear layers that exist) or rank < 1.
std::vector<std::string> add_lora_adapters(torch::nn::Module& root, const LoraSpec& spec,
                                           const std::function<std::string(const std::string&)>& hf_name,
                                           const std::vector<std::string>& excluded_prefixes);

/// Folds every adapter under `root` into its base weight (W0 += (alpha / r) · B A, in float64) and removes it.
void merge_lora_adapters(torch::nn::Module& root);

/// True for an adapter parameter name (".lora_A." / ".lora_B." inside it).
bool is_lora_parameter(const std::string& name);

/// adapter_config.json as PEFT writes it for a LoraConfig of `spec` on `base_model` (its path). The targets are
/// written as PEFT's fullmatch regular expression over exactly the adapted module names' suffixes, so that PEFT
/// on the Hugging Face model adapts the same layers (a plain list would also adapt the vision tower's q_proj).
nlohmann::json peft_adapter_config(const LoraSpec& spec, const std::string& base_model,
                                   const std::vector<std::string>& adapted_modules);

/// Writes `dir`/adapter_config.json and `dir`/adapter_model.safetensors (tensors renamed to PEFT's
/// "base_model.model." + name), each atomically. `adapters` holds only adapter parameters by HF name.
void write_peft_adapter(const std::string& dir, const nlohmann::json& adapter_config,
                        const std::map<std::string, at::Tensor>& adapters);

/// A PEFT adapter folder read back: its LoRA settings, the base model path (relative paths resolve against
/// the adapter folder, then the working directory) and the adapter tensors by seer's HF names.
struct PeftAdapter {
  LoraSpec spec;
  std::string base_model;
  std::map<std::string, at::Tensor> tensors;
};
/// True when `dir` holds adapter_config.json.
bool is_peft_adapter_dir(const std::string& dir);
/// Throws seer::Error naming the file and field for a config seer cannot use (not LORA, bias != "none",
/// use_dora, fan_in_fan_out, rank or alpha pattern) or a missing file.
PeftAdapter read_peft_adapter(const std::string& dir);

}  // namespace seer::model
