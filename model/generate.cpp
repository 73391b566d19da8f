#include "model/generate.h"

#include <algorithm>
#include <limits>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "core/check.h"
#include "model/linear.h"

namespace seer::model {
namespace {

/// Keeps the k largest logits per row, the rest -inf. logits (R, V).
torch::Tensor top_k_filter(const torch::Tensor& logits, int64_t k) {
  if (k <= 0 || k >= logits.size(-1)) return logits;
  auto kth = std::get<0>(logits.topk(k, -1)).narrow(-1, k - 1, 1);  // (R, 1)
  return logits.masked_fill(logits < kth, -std::numeric_limits<float>::infinity());
}

/// Keeps the smallest set of tokens whose probability reaches p (at least one), the rest -inf.
torch::Tensor top_p_filter(const torch::Tensor& logits, double p) {
  if (p >= 1.0) return logits;
  auto sorted = logits.sort(-1, /*descending=*/true);
  auto values = std::get<0>(sorted), order = std::get<1>(sorted);
  auto cum = values.softmax(-1).cumsum(-1);
  auto remove_sorted = (cum - values.softmax(-1)) >= p;  // mass before this token already reaches p
  auto remove = torch::zeros_like(remove_sorted).scatter(-1, order, remove_sorted);
  return logits.masked_fill(remove, -std::numeric_limits<float>::infinity());
}

}  // namespace

Generation generate(Vlm& model, const std::vector<Prompt>& prompts, int64_t group_size, const SamplingParams& params) {
  torch::NoGradGuard no_grad;
  WeightCastCache casts;  // bf16 products: each weight cast once per call, not once per step
  SEER_CHECK(!prompts.empty(), "generate: no prompts");
  SEER_CHECK(group_size >= 1, "generate: group_size must be >= 1, got {}", group_size);
  SEER_CHECK(params.max_new_tokens >= 1, "generate: max_new_tokens must be >= 1");
  const VlmConfig& cfg = model.config();
  const int64_t P = static_cast<int64_t>(prompts.size()), G = group_size, R = P * G;
  const int64_t pad = cfg.text.pad_token_id >= 0 ? cfg.text.pad_token_id : 0;
  const auto dev = model.device();

  // Left-pad the prompts into one batch.
  int64_t longest = 0;
  std::vector<torch::Tensor> images;
  for (const auto& p : prompts) {
    SEER_CHECK(p.ids.defined() && p.ids.dim() == 1 && p.ids.numel() > 0, "generate: every prompt needs token ids (T)");
    longest = std::max(longest, p.ids.numel());
    for (const auto& im : p.images) {
      SEER_CHECK(im.defined() && im.dim() >= 4, "generate: an image must be a (n, ...) tensor (vlm.h)");
      images.push_back(im);
    }
  }
  auto ids = torch::full({P, longest}, pad, torch::kLong);
  auto valid = torch::zeros({P, longest}, torch::kBool);
  for (int64_t i = 0; i < P; ++i) {
    const int64_t n = prompts[static_cast<size_t>(i)].ids.numel();
    ids[i].narrow(0, longest - n, n).copy_(prompts[static_cast<size_t>(i)].ids.to(torch::kLong).cpu());
    valid[i].narrow(0, longest - n, n).fill_(true);
  }
  // One vision pass for all images of the batch (one per image size when sizes differ), one prefill for all
  // prompts.
  torch::Tensor features;
  if (!images.empty()) {
    std::vector<torch::Tensor> single;  // one tensor per image, prompts in order
    for (const auto& im : images) {
      for (int64_t i = 0; i < im.size(0); ++i) single.push_back(im.narrow(0, i, 1));
    }
    features = torch::cat(model.image_features(single), 0);  // (all image tokens, D)
  }
  auto positions = model.positions(ids, valid, images).to(dev);
  KvCache prompt_cache = model.new_cache(P, longest);
  auto hidden = model.decode(model.embed(ids, features), positions, valid, &prompt_cache);
  auto logits = model.logits(hidden.select(1, longest - 1));  // (P, V)

  // The G samples of a prompt read its keys/values in place (kv_cache.h SharedKv): no copy per sample, and each
  // step reads a prompt's cache once for its G rows. New tokens go to a cache of their own.
  const SharedKv shared = share_cache(prompt_cache, longest, std::vector<int64_t>(static_cast<size_t>(P), G));
  KvCache cache = model.new_cache(R, params.max_new_tokens);
  logits = logits.repeat_interleave(G, 0);  // (R, V)
  // Decode steps continue after the largest position used (for M-RoPE: cache position + rope delta on all
  // three streams, transformers' get_rope_index deltas), one per step.
  auto used = positions.dim() == 3 ? positions.amax(0) : positions;                        // (P, T)
  auto last = used.masked_fill(valid.to(dev).logical_not(), -1).amax(1);                  // (P)
  auto next_pos = last.repeat_interleave(G, 0) + 1;                                       // (R)

  auto banned = torch::zeros({cfg.text.vocab_size}, torch::kBool);
  for (int64_t id : params.banned_ids) {
    if (id >= 0 && id < cfg.text.vocab_size) banned[id] = true;
  }
  if (cfg.has_vision) banned[cfg.image_token_index] = true;
  banned = banned.to(dev);
  auto is_stop = torch::zeros({cfg.text.vocab_size}, torch::kBool);
  for (int64_t id : params.stop_ids) {
    if (id >= 0 && id < cfg.text.vocab_size) is_stop[id] = true;
  }
  is_stop = is_stop.to(dev);

  const bool greedy = params.temperature <= 0;
  const double temperature = greedy ? 1.0 : params.temperature;
  auto gen = at::detail::createCPUGenerator(params.seed);
  Generation out;
  std::vector<torch::Tensor> tokens, logps, steps;
  auto finished = torch::zeros({R}, torch::TensorOptions().dtype(torch::kBool).device(dev));
  out.lengths.assign(static_cast<size_t>(R), 0);
  out.finish.assign(static_cast<size_t>(R), FinishReason::kLength);
  for (int64_t step = 0; step < params.max_new_tokens; ++step) {
    auto masked = logits.masked_fill(banned, -std::numeric_limits<float>::infinity());
    if (params.keep_step_logits) steps.push_back(logits.cpu());
    torch::Tensor next;
    if (greedy) {
      next = masked.argmax(-1);
    } else {
      auto filtered = top_p_filter(top_k_filter(masked / temperature, params.top_k), params.top_p);
      next = torch::multinomial(filtered.softmax(-1).cpu(), 1, false, gen).squeeze(1).to(dev);
    }
    auto logp = torch::log_softmax(logits / temperature, -1).gather(1, next.unsqueeze(1)).squeeze(1);
    next = next.masked_fill(finished, pad);
    logp = logp.masked_fill(finished, 0.0);
    tokens.push_back(next);
    logps.push_back(logp);
    auto newly_stopped = is_stop.index({next}) & finished.logical_not();
    const auto alive_cpu = finished.logical_not().cpu();
    const auto stopped_cpu = newly_stopped.cpu();
    const auto alive = alive_cpu.accessor<bool, 1>();
    const auto stopped = stopped_cpu.accessor<bool, 1>();
    for (int64_t r = 0; r < R; ++r) {
      if (alive[r]) ++out.lengths[static_cast<size_t>(r)];
      if (stopped[r]) out.finish[static_cast<size_t>(r)] = FinishReason::kStop;
    }
    if (params.on_step) {
      std::vector<bool> alive_rows(static_cast<size_t>(R));
      for (int64_t r = 0; r < R; ++r) alive_rows[static_cast<size_t>(r)] = alive[r];
      params.on_step(next.cpu(), alive_rows);
    }
    finished = finished | newly_stopped;
    if (finished.all().item<bool>() || step + 1 == params.max_new_tokens) break;
    auto key_valid = torch::cat({cache.valid.narrow(1, 0, cache.length),
                                 torch::ones({R, 1}, cache.valid.options())}, 1);
    hidden = model.decode(model.embed(next.unsqueeze(1), {}), next_pos.unsqueeze(1), key_valid, &cache, nullptr, &shared);
    logits = model.logits(hidden.select(1, 0));
    next_pos = next_pos + 1;
  }
  out.tokens = torch::stack(tokens, 1).cpu();
  out.logprobs = torch::stack(logps, 1).cpu();
  if (params.keep_step_logits) out.step_logits = torch::stack(steps, 0);
  return out;
}

}  // namespace seer::model
