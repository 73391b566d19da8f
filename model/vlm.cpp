#include "model/vlm.h"

#include <atomic>
#include <filesystem>
#include <tuple>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/nn/init.h>

#include "core/atomic_file.h"
#include "core/check.h"
#include "core/progress.h"
#include "model/language_model.h"
#include "model/safetensors.h"
#include "model/target_logprobs.h"
#include "model/vision_part.h"

namespace seer::model {
namespace {

/// The root module, with Hugging Face names: LLaVA vision_tower.vision_model, multi_modal_projector,
/// language_model.{model, lm_head}; Qwen2-VL visual.*, model, lm_head; text-only language_model.* (written
/// without the prefix, hf_name).
struct VlmModule : torch::nn::Module {
  explicit VlmModule(const VlmConfig& c) {
    vision = make_vision_part(c, *this);
    torch::nn::Module* text = this;
    if (!c.dynamic_resolution()) text = register_module("language_model", std::make_shared<torch::nn::Module>()).get();
    decoder = text->register_module("model", Decoder(c.text));
    if (!c.text.tie_word_embeddings) {
      lm_head = text->register_module("lm_head", Linear(c.text.hidden_size, c.text.vocab_size, false));
    }
  }
  std::unique_ptr<VisionPart> vision;
  Linear lm_head{nullptr};
  Decoder decoder{nullptr};
};

bool has_prefix(const std::string& name, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (name.rfind(p, 0) == 0) return true;
  }
  return false;
}

/// Module parameter name -> Hugging Face tensor name (text-only checkpoints have no "language_model.").
std::string hf_name(const VlmConfig& c, const std::string& name) {
  const std::string prefix = "language_model.";
  if (!c.has_vision && name.rfind(prefix, 0) == 0) return name.substr(prefix.size());
  return name;
}

}  // namespace

struct Vlm::Impl {
  VlmConfig config;
  std::shared_ptr<VlmModule> module;
  torch::Device device{torch::kCPU};
  bool freeze_vision = true;
  LoraSpec lora;                         // rank 0: no adapters
  std::vector<std::string> lora_modules;  // adapted modules, HF names
  std::string base_path;                 // where the base weights came from (absolute)
  std::atomic<int64_t> vision_passes{0};   // atomic: rollout lanes run passes from several threads
  std::atomic<int64_t> prefill_passes{0};
  int64_t logprob_chunk_bytes = kDefaultLogprobChunkBytes;
};

Vlm::Vlm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<Vlm> Vlm::finish(std::unique_ptr<Impl> impl, const LoadOptions& options) {
  impl->device = torch::Device(options.device);
  impl->module->to(impl->device, options.dtype);
  impl->freeze_vision = options.freeze_vision_tower;
  auto vlm = std::unique_ptr<Vlm>(new Vlm(std::move(impl)));
  if (options.lora.rank > 0) vlm->add_lora(options.lora, options.lora_seed);
  vlm->set_train(false);  // inference mode until a learner asks; also sets which parameters take gradients
  return vlm;
}

void Vlm::add_lora(const LoraSpec& spec, uint64_t seed) {
  SEER_CHECK(impl_->lora.rank == 0, "this model has LoRA adapters already");
  torch::manual_seed(seed);
  const VlmConfig& c = impl_->config;
  impl_->lora_modules = add_lora_adapters(
      *impl_->module, spec, [&](const std::string& key) { return hf_name(c, key); }, c.vision_tower_prefixes());
  impl_->lora = spec;
  set_train(impl_->module->is_training());
  spdlog::info("LoRA: rank {}, alpha {:g}, adapters on {} linear layers ({})", spec.rank, spec.alpha,
               impl_->lora_modules.size(), fmt::join(spec.target_modules, ", "));
}

const LoraSpec& Vlm::lora() const { return impl_->lora; }
const std::vector<std::string>& Vlm::lora_modules() const { return impl_->lora_modules; }
const std::string& Vlm::base_model_path() const { return impl_->base_path; }
Vlm::~Vlm() = default;

std::unique_ptr<Vlm> Vlm::create(const VlmConfig& config, uint64_t seed, const LoadOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  torch::manual_seed(seed);
  impl->module = std::make_shared<VlmModule>(config);
  {
    torch::NoGradGuard no_grad;
    // GPT-style init: weights N(0, 0.02), norms 1, biases 0 (LlamaPreTrainedModel._init_weights).
    for (auto& p : impl->module->named_parameters()) {
      const std::string& n = p.key();
      const bool norm = n.find("norm") != std::string::npos || n.find(".ln_") != std::string::npos;
      if (norm && p.value().dim() == 1 && n.find("bias") == std::string::npos) {
        p.value().fill_(1.0);
      } else if (p.value().dim() == 1) {
        p.value().zero_();
      } else {
        p.value().normal_(0.0, 0.02);
      }
    }
  }
  return finish(std::move(impl), options);
}

std::unique_ptr<Vlm> Vlm::load(const std::string& dir, const LoadOptions& options) {
  namespace fs = std::filesystem;
  const bool has_weights =
      fs::exists(fs::path(dir) / "model.safetensors") || fs::exists(fs::path(dir) / "model.safetensors.index.json");
  if (!has_weights && is_peft_adapter_dir(dir)) {
    const PeftAdapter adapter = read_peft_adapter(dir);
    LoadOptions base_options = options;
    base_options.lora = adapter.spec;
    auto vlm = load(adapter.base_model, base_options);
    torch::NoGradGuard no_grad;
    auto params = vlm->named_parameters();
    for (const auto& [name, t] : adapter.tensors) {
      auto p = params.find(name);
      SEER_CHECK(p != params.end(), "{}/adapter_model.safetensors: '{}' has no layer in {}", dir, name, adapter.base_model);
      SEER_CHECK(p->second.sizes() == t.sizes(), "{}/adapter_model.safetensors: '{}' has shape {}, the layer needs {}", dir,
                 name, fmt::format("{}", fmt::join(t.sizes(), "x")), fmt::format("{}", fmt::join(p->second.sizes(), "x")));
      p->second.copy_(t.to(p->second.scalar_type()));
    }
    spdlog::info("{}: LoRA adapter ({} tensors) on {}", dir, adapter.tensors.size(), adapter.base_model);
    return vlm;
  }
  auto impl = std::make_unique<Impl>();
  impl->base_path = fs::absolute(dir).lexically_normal().string();
  impl->config = load_hf_config(dir);
  impl->module = std::make_shared<VlmModule>(impl->config);
  CheckpointReader reader(dir);
  std::set<std::string> used;
  {
    torch::NoGradGuard no_grad;
    auto params = impl->module->named_parameters();
    int64_t total_bytes = 0;
    for (const auto& p : params) total_bytes += p.value().numel() * static_cast<int64_t>(p.value().element_size());
    Progress progress("loading " + dir, total_bytes, "MiB", 1 << 20);
    for (auto& p : params) {
      const std::string name = hf_name(impl->config, p.key());
      SEER_CHECK(reader.contains(name), "{}: checkpoint has no tensor '{}'", dir, name);
      at::Tensor t = reader.tensor(name);
      SEER_CHECK(t.sizes() == p.value().sizes(), "{}: tensor '{}' has shape {}, but config.json implies {}", dir, name,
                 fmt::format("{}", fmt::join(t.sizes(), "x")), fmt::format("{}", fmt::join(p.value().sizes(), "x")));
      p.value().copy_(t.to(p.value().scalar_type()));
      used.insert(name);
      progress.add(p.value().numel() * static_cast<int64_t>(p.value().element_size()));
    }
  }
  std::vector<std::string> extra;
  for (const auto& n : reader.names()) {
    if (!used.count(n) && n != impl->config.text_prefix() + "lm_head.weight") extra.push_back(n);
  }
  if (!extra.empty()) {
    spdlog::warn("{}: {} tensors not used by seer's model (e.g. '{}')", dir, extra.size(), extra.front());
  }
  return finish(std::move(impl), options);
}

const VlmConfig& Vlm::config() const { return impl_->config; }
at::Device Vlm::device() const { return impl_->device; }

void Vlm::save_pretrained(const std::string& dir, int64_t max_shard_bytes) const {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  if (impl_->lora.rank > 0) {
    std::map<std::string, at::Tensor> adapters;
    for (const auto& [name, p] : named_parameters()) {
      if (is_lora_parameter(name)) adapters[name] = p;
    }
    write_peft_adapter(dir, peft_adapter_config(impl_->lora, impl_->base_path, impl_->lora_modules), adapters);
  } else {
    write_checkpoint_tensors(dir, named_parameters(), max_shard_bytes);
  }
  write_config_files(dir);
}

void Vlm::save_merged(const std::string& dir, int64_t max_shard_bytes) const {
  if (impl_->lora.rank == 0) return save_pretrained(dir, max_shard_bytes);
  std::filesystem::create_directories(dir);
  torch::NoGradGuard no_grad;
  const auto params = named_parameters();
  std::map<std::string, at::Tensor> merged;
  for (const auto& [name, p] : params) {
    if (!is_lora_parameter(name)) merged[name] = p;
  }
  const double scaling = impl_->lora.alpha / static_cast<double>(impl_->lora.rank);
  for (const std::string& m : impl_->lora_modules) {
    const at::Tensor& w = params.at(m + ".weight");
    const at::Tensor delta = at::matmul(params.at(m + ".lora_B.weight").to(at::kDouble),
                                        params.at(m + ".lora_A.weight").to(at::kDouble)) * scaling;
    merged[m + ".weight"] = (w.to(at::kDouble) + delta).to(w.scalar_type());
  }
  write_checkpoint_tensors(dir, merged, max_shard_bytes);
  write_config_files(dir);
}

void Vlm::write_config_files(const std::string& dir) const {
  namespace fs = std::filesystem;
  const auto& t = impl_->config.text;
  nlohmann::json gen = {{"_from_model_config", true}};
  if (t.bos_token_id >= 0) gen["bos_token_id"] = t.bos_token_id;
  if (t.eos_token_ids.size() == 1) gen["eos_token_id"] = t.eos_token_ids[0];
  if (t.eos_token_ids.size() > 1) gen["eos_token_id"] = t.eos_token_ids;
  if (t.pad_token_id >= 0) gen["pad_token_id"] = t.pad_token_id;
  write_file_atomic((fs::path(dir) / "generation_config.json").string(), gen.dump(2) + "\n");
  write_file_atomic((fs::path(dir) / "config.json").string(), impl_->config.raw.dump(2) + "\n");
}

VisionTrace Vlm::trace_vision(const at::Tensor& pixel_values, bool all_layers) {
  const VlmConfig& c = impl_->config;
  SEER_CHECK(c.has_vision, "{} has no vision tower: it cannot take images", c.architecture);
  ++impl_->vision_passes;
  VisionTrace trace;
  const bool grad = !impl_->freeze_vision && torch::GradMode::is_enabled();
  {
    torch::AutoGradMode mode(grad);
    impl_->module->vision->trace(pixel_values.to(impl_->device), all_layers, trace);
  }
  trace.features = project(trace.selected);
  return trace;
}

at::Tensor Vlm::image_features(const at::Tensor& pixel_values) { return trace_vision(pixel_values).features; }

std::vector<at::Tensor> Vlm::image_features(const std::vector<at::Tensor>& images) {
  std::vector<at::Tensor> out;
  for (size_t b = 0; b < images.size();) {
    size_t e = b + 1;
    while (e < images.size() && images[e].sizes() == images[b].sizes()) ++e;
    std::vector<at::Tensor> run(images.begin() + static_cast<int64_t>(b), images.begin() + static_cast<int64_t>(e));
    const at::Tensor f = image_features(run.size() == 1 ? run[0] : at::cat(run, 0));  // (n, F, D)
    for (int64_t i = 0; i < f.size(0); ++i) out.push_back(f[i]);
    b = e;
  }
  return out;
}

at::Tensor Vlm::vision_features(const at::Tensor& pixel_values) {
  torch::AutoGradMode mode(false);
  return trace_vision(pixel_values).selected.detach();
}

at::Tensor Vlm::project(const at::Tensor& selected) {
  SEER_CHECK(impl_->config.has_vision, "{} has no projector", impl_->config.architecture);
  return impl_->module->vision->project(selected.to(impl_->device));
}

int64_t Vlm::image_tokens(const at::Tensor& image) const {
  SEER_CHECK(impl_->config.has_vision, "{} has no vision tower: it cannot take images", impl_->config.architecture);
  return impl_->module->vision->image_tokens(image);
}

at::Tensor Vlm::positions(const at::Tensor& ids, const at::Tensor& valid, const std::vector<at::Tensor>& images) const {
  if (!impl_->config.has_vision) return sequential_positions(valid);
  return impl_->module->vision->positions(ids, valid, images);
}

bool Vlm::vision_frozen() const { return impl_->freeze_vision; }

at::Tensor Vlm::embed(const at::Tensor& ids, const at::Tensor& features) {
  auto ids_dev = ids.to(impl_->device);
  auto embeds = impl_->module->decoder->embed(ids_dev);
  const int64_t image_token = impl_->config.image_token_index;
  if (!impl_->config.has_vision) return embeds;
  auto is_image = ids_dev == image_token;  // (B, T)
  const int64_t placeholders = is_image.sum().item<int64_t>();
  const int64_t given = features.defined() ? features.numel() / features.size(-1) : 0;
  SEER_CHECK(placeholders == given,
             "the prompt has {} image placeholder tokens (id {}) but {} image features were given (shape {})",
             placeholders, image_token, given,
             features.defined() ? fmt::format("{}", fmt::join(features.sizes(), "x")) : std::string("none"));
  if (given == 0) return embeds;
  auto flat = features.reshape({-1, features.size(-1)}).to(embeds.scalar_type());
  return embeds.masked_scatter(is_image.unsqueeze(-1).expand_as(embeds), flat);
}

at::Tensor Vlm::decode(const at::Tensor& embeds, const at::Tensor& positions, const at::Tensor& key_valid,
                       KvCache* cache, std::vector<at::Tensor>* layer_outputs, const SharedKv* shared) {
  if (cache != nullptr && cache->length == 0 && shared == nullptr) ++impl_->prefill_passes;  // a first step after a shared prompt is not one
  return impl_->module->decoder->forward(embeds, positions.to(impl_->device), key_valid.to(impl_->device), cache,
                                         layer_outputs, shared);
}

at::Tensor Vlm::logits(const at::Tensor& hidden) {
  // float32 for float32/16-bit models; a float64 model keeps float64 (gradient checks)
  const auto dtype = hidden.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat32;
  if (impl_->module->lm_head) return impl_->module->lm_head(hidden).to(dtype);
  return model::linear(hidden, impl_->module->decoder->embed_tokens->weight, at::Tensor()).to(dtype);
}

TokenLogprobs Vlm::token_logprobs(const at::Tensor& ids, const at::Tensor& attention_mask, const at::Tensor& features,
                                  const at::Tensor& target_mask, double temperature, bool with_entropy,
                                  const at::Tensor& position_ids, const SharedPrompts* shared) {
  SEER_CHECK(temperature > 0, "token_logprobs: temperature must be > 0, got {}", temperature);
  auto ids_dev = ids.to(impl_->device);
  auto mask = attention_mask.to(impl_->device).to(torch::kBool);
  auto targets = target_mask.to(impl_->device).to(torch::kBool);
  auto positions = (position_ids.defined() ? position_ids : sequential_positions(mask)).to(impl_->device);
  at::Tensor h, chosen;  // (K, D) the hidden state before each target, (K) the target ids, row-major order
  if (shared == nullptr) {
    auto hidden = decode(embed(ids_dev, features), positions, mask, nullptr);  // (B, T, D)
    // Position t-1 predicts token t: only the rows that predict a target go through lm_head.
    auto predicts = torch::zeros_like(targets);
    predicts.narrow(1, 0, targets.size(1) - 1).copy_(targets.narrow(1, 1, targets.size(1) - 1));
    h = hidden.index({predicts});
    chosen = ids_dev.index({targets});
  } else {
    std::tie(h, chosen) = shared_prompt_pass(ids_dev, mask, features, targets, positions, *shared);
  }
  auto per_row = target_logprobs([this](const torch::Tensor& x) { return logits(x); }, h, chosen,
                                 impl_->config.text.vocab_size, temperature, with_entropy, impl_->logprob_chunk_bytes);
  TokenLogprobs out;
  // float32 (float64 for a float64 model: gradient checks need it)
  const auto out_dtype = h.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat32;
  out.logprobs = torch::zeros(targets.sizes(), h.options().dtype(out_dtype));
  out.logprobs = out.logprobs.index_put({targets}, per_row.logprobs);
  if (with_entropy) {
    out.entropy = torch::zeros(targets.sizes(), out.logprobs.options());
    out.entropy = out.entropy.index_put({targets}, per_row.entropy);
  }
  return out;
}

std::pair<at::Tensor, at::Tensor> Vlm::shared_prompt_pass(const at::Tensor& ids, const at::Tensor& mask,
                                                         const at::Tensor& features, const at::Tensor& targets,
                                                         const at::Tensor& positions, const SharedPrompts& shared) {
  const int64_t B = ids.size(0), T = ids.size(1), U = static_cast<int64_t>(shared.rows.size());
  SEER_CHECK(U >= 1 && shared.length.size() == shared.rows.size(),
             "token_logprobs: {} shared prompt run lengths for {} prompts", shared.rows.size(), shared.length.size());
  // Per row: its prompt's length; per prompt: its first row.
  std::vector<int64_t> row_prompt_len, first_row;
  int64_t Tp = 0;
  for (int64_t u = 0; u < U; ++u) {
    const int64_t n = shared.rows[static_cast<size_t>(u)], L = shared.length[static_cast<size_t>(u)];
    SEER_CHECK(n >= 1 && L >= 1 && L < T, "token_logprobs: shared prompt {} has {} rows and {} tokens (batch of {} positions)",
               u, n, L, T);
    first_row.push_back(static_cast<int64_t>(row_prompt_len.size()));
    row_prompt_len.insert(row_prompt_len.end(), static_cast<size_t>(n), L);
    Tp = std::max(Tp, L);
  }
  SEER_CHECK(static_cast<int64_t>(row_prompt_len.size()) == B, "token_logprobs: shared prompts cover {} rows, the batch has {}",
             row_prompt_len.size(), B);
  const auto dev = ids.device();
  const auto lopt = torch::TensorOptions().dtype(torch::kLong).device(dev);
  auto L_row = torch::tensor(row_prompt_len, torch::kLong).to(dev);                          // (B)
  auto first = torch::tensor(first_row, torch::kLong).to(dev);                               // (U)
  auto j_all = torch::arange(T, lopt).unsqueeze(0);                                           // (1, T)
  SEER_CHECK(!(targets & (j_all < L_row.unsqueeze(1))).any().item<bool>(),
             "token_logprobs: a target token lies inside its row's shared prompt");
  const int64_t pad = std::max<int64_t>(0, impl_->config.text.pad_token_id);
  // The prompts, once each: (U, Tp), right-padded.
  auto L_u = L_row.index_select(0, first);
  auto p_valid = (torch::arange(Tp, lopt).unsqueeze(0) < L_u.unsqueeze(1)) & mask.index_select(0, first).narrow(1, 0, Tp);
  auto p_ids = torch::where(p_valid, ids.index_select(0, first).narrow(1, 0, Tp), torch::full({}, pad, lopt));
  auto p_pos = positions.index_select(positions.dim() - 2, first).narrow(positions.dim() - 1, 0, Tp);
  KvCache cache = new_cache(U, Tp);
  auto p_hidden = decode(embed(p_ids, features), p_pos, p_valid, &cache);                    // (U, Tp, D)
  // The rest of each row, (B, Ts), right-padded: full position L_row + j.
  const int64_t Ts = (mask.sum(1) - L_row).max().item<int64_t>();
  SEER_CHECK(Ts >= 1, "token_logprobs: no row has tokens after its shared prompt");
  auto j = torch::arange(Ts, lopt).unsqueeze(0);
  auto idx = (L_row.unsqueeze(1) + j).clamp_max(T - 1);                                       // (B, Ts)
  auto s_valid = (L_row.unsqueeze(1) + j < T) & mask.gather(1, idx);
  auto s_ids = torch::where(s_valid, ids.gather(1, idx), torch::full({}, pad, lopt));
  auto s_targets = targets.gather(1, idx) & s_valid;
  at::Tensor s_pos = positions.dim() == 3 ? positions.gather(2, idx.unsqueeze(0).expand({positions.size(0), B, Ts}))
                                          : positions.gather(1, idx);
  std::vector<int64_t> rows = shared.rows;
  const SharedKv kv = share_cache(cache, Tp, std::move(rows));
  auto s_hidden = decode(embed(s_ids, at::Tensor()), s_pos, s_valid, nullptr, nullptr, &kv);  // (B, Ts, D)
  // Row r's suffix token j is predicted by its suffix position j - 1, or (j = 0) by its prompt's last position.
  auto last = p_hidden.gather(1, (L_u - 1).view({U, 1, 1}).expand({U, 1, p_hidden.size(2)}));  // (U, 1, D)
  auto counts = torch::tensor(shared.rows, torch::kLong).to(dev);
  auto before = torch::cat({last.repeat_interleave(counts, 0), s_hidden.narrow(1, 0, Ts - 1)}, 1);  // (B, Ts, D)
  SEER_CHECK(s_targets.sum().item<int64_t>() == targets.sum().item<int64_t>(),
             "token_logprobs: targets outside the rows' valid tokens");
  return {before.index({s_targets}), s_ids.index({s_targets})};
}

KvCache Vlm::new_cache(int64_t rows, int64_t capacity) const {
  const auto& t = impl_->config.text;
  auto options = impl_->module->decoder->embed_tokens->weight.options().requires_grad(false);
  return make_kv_cache(t.num_hidden_layers, rows, t.num_key_value_heads, t.head_dim, capacity, options);
}

std::map<std::string, at::Tensor> Vlm::named_parameters() const {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : impl_->module->named_parameters()) out[hf_name(impl_->config, p.key())] = p.value();
  return out;
}

bool Vlm::takes_gradient(const std::string& module_key) const {
  if (impl_->lora.rank > 0) return is_lora_parameter(module_key);  // LoRA: the base model is frozen
  return !(has_prefix(module_key, impl_->config.vision_tower_prefixes()) && impl_->freeze_vision);
}

std::vector<at::Tensor> Vlm::trainable_parameters() const {
  std::vector<at::Tensor> out;
  for (const auto& p : impl_->module->named_parameters()) {
    if (takes_gradient(p.key())) out.push_back(p.value());
  }
  return out;
}

void Vlm::set_train(bool train) {
  impl_->module->train(train);
  for (auto& p : impl_->module->named_parameters()) p.value().set_requires_grad(takes_gradient(p.key()));
}

void Vlm::set_gradient_checkpointing(bool on) { impl_->module->decoder->set_gradient_checkpointing(on); }
bool Vlm::gradient_checkpointing() const { return impl_->module->decoder->gradient_checkpointing(); }

void Vlm::set_logprob_chunk_bytes(int64_t bytes) { impl_->logprob_chunk_bytes = bytes; }

int64_t Vlm::vision_passes() const { return impl_->vision_passes; }
int64_t Vlm::prefill_passes() const { return impl_->prefill_passes; }

}  // namespace seer::model
