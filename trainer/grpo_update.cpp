#include "trainer/grpo_update.h"

#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>
#include <type_traits>

#include <torch/torch.h>

#include "core/check.h"
#include "model/linear.h"
#include "model/vlm.h"
#include "trainer/grad_sync.h"
#include "trainer/optimizer.h"
#include "trainer/sequence_batch.h"

namespace seer::trainer {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// Per-sequence data that sits next to the token sequences.
struct Flat {
  std::vector<Sequence> sequences;
  std::vector<double> advantages;
  std::vector<const std::vector<float>*> rollout_logprobs;
  std::vector<at::Tensor> pixel_values;  ///< one per image index
  std::vector<int64_t> mini_batch;       ///< per sequence, non-decreasing (groups come in mini-batch order)
  std::vector<std::string> group_ids;    ///< per sequence
  std::vector<int64_t> group;            ///< per sequence: index of its group in the step's list
  std::vector<int64_t> prompt_length;    ///< per sequence: its prompt's tokens
  std::vector<double> rewards;           ///< per sequence
};

Flat flatten(const std::vector<Group>& groups) {
  Flat f;
  for (const Group& g : groups) {
    const auto group_index = static_cast<int64_t>(&g - groups.data());
    std::vector<int64_t> images;
    for (const at::Tensor& px : g.pixel_values) {
      images.push_back(static_cast<int64_t>(f.pixel_values.size()));
      f.pixel_values.push_back(px);
    }
    for (const Completion& c : g.completions) {
      if (!c.reward.has_value() || c.tokens.empty()) continue;  // unscorable: never trained on
      SEER_CHECK(c.rollout_logprobs.empty() || c.rollout_logprobs.size() == c.tokens.size(),
                 "group {}: {} rollout log-probs for {} tokens", g.prompt_id, c.rollout_logprobs.size(), c.tokens.size());
      Sequence s;
      s.ids = g.prompt;
      s.ids.insert(s.ids.end(), c.tokens.begin(), c.tokens.end());
      s.target.assign(g.prompt.size(), 0);
      s.target.resize(s.ids.size(), 1);
      s.images = images;
      f.sequences.push_back(std::move(s));
      f.advantages.push_back(c.advantage);
      f.rollout_logprobs.push_back(&c.rollout_logprobs);
      f.mini_batch.push_back(g.mini_batch);
      f.group_ids.push_back(g.prompt_id);
      f.group.push_back(group_index);
      f.prompt_length.push_back(static_cast<int64_t>(g.prompt.size()));
      f.rewards.push_back(*c.reward);
    }
  }
  return f;
}

/// Reorders every per-sequence field of `f` by `order`, a permutation of the sequence indexes.
void permute(Flat& f, const std::vector<size_t>& order) {
  auto take = [&](auto& v) {
    std::decay_t<decltype(v)> out;
    out.reserve(v.size());
    for (size_t i : order) out.push_back(std::move(v[i]));
    v = std::move(out);
  };
  take(f.sequences);
  take(f.advantages);
  take(f.rollout_logprobs);
  take(f.mini_batch);
  take(f.group_ids);
  take(f.group);
  take(f.prompt_length);
  take(f.rewards);
}

/// Values laid out on the target positions of a micro-batch, row by row in order; `fill` elsewhere.
at::Tensor on_targets(const at::Tensor& target, const std::vector<const std::vector<float>*>& rows, size_t begin) {
  at::Tensor out = at::zeros(target.sizes(), at::kFloat);
  auto tgt = target.accessor<bool, 2>();
  auto o = out.accessor<float, 2>();
  for (int64_t b = 0; b < target.size(0); ++b) {
    const auto* values = rows[begin + static_cast<size_t>(b)];
    size_t k = 0;
    for (int64_t t = 0; t < target.size(1); ++t) {
      if (tgt[b][t] && k < values->size()) o[b][t] = (*values)[k++];
    }
  }
  return out;
}

}  // namespace

void assign_advantages(std::vector<Group>& groups, const AdvantageOptions& options) {
  std::vector<std::string> ids;
  std::vector<std::optional<double>> rewards;
  for (const Group& g : groups) {
    for (const Completion& c : g.completions) {
      ids.push_back(g.prompt_id);
      rewards.push_back(c.reward);
    }
  }
  const auto adv = compute_advantages(ids, rewards, options);
  size_t i = 0;
  for (Group& g : groups) {
    for (Completion& c : g.completions) c.advantage = adv[i++];
  }
}

void assign_mini_batches(std::vector<Group>& groups, int64_t mini_batches) {
  SEER_CHECK(mini_batches >= 1, "mini_batches must be >= 1, got {}", mini_batches);
  const auto n = static_cast<int64_t>(groups.size());
  for (int64_t i = 0; i < n; ++i) groups[static_cast<size_t>(i)].mini_batch = i * mini_batches / std::max<int64_t>(1, n);
}

bool rewards_all_equal(const Group& group) {
  std::optional<double> first;
  for (const Completion& c : group.completions) {
    if (!c.reward) continue;
    if (!first) first = c.reward;
    else if (*c.reward != *first) return false;
  }
  return true;
}

PolicyUpdateStats policy_update(model::Vlm& policy, model::Vlm* reference, AdamW& optimizer, Communicator& comm,
                                const std::vector<Group>& local, const PolicyUpdateOptions& o) {
  SEER_CHECK(o.ppo_epochs >= 1 && o.mini_batches >= 1 && o.micro_batch_size >= 1,
             "policy_update: ppo_epochs, mini_batches and micro_batch_size must be >= 1");
  const bool use_ref = o.clip.beta != 0.0;
  SEER_CHECK(!use_ref || reference != nullptr, "policy_update: kl_coef = {} needs a reference model", o.clip.beta);
  PolicyUpdateStats st;
  Flat f = flatten(local);
  const size_t n = f.sequences.size();
  const bool frozen = policy.vision_frozen();
  // Image features of sequences [begin, end), rows in row order, the tower run once per distinct image: the
  // G sequences of a group share one image, so a trainable tower costs one pass per prompt, not per sample
  // (the rows' gradients sum back into the shared pass: same gradient, G times less work).
  auto features_of = [&](model::Vlm& m, const std::vector<size_t>& seqs) {
    std::vector<at::Tensor> px;
    std::vector<size_t> rows;
    std::map<int64_t, size_t> slot;  // image index -> position in px
    for (size_t i : seqs) {
      for (int64_t image : f.sequences[i].images) {
        auto [it, fresh] = slot.emplace(image, px.size());
        if (fresh) px.push_back(f.pixel_values[static_cast<size_t>(image)]);
        rows.push_back(it->second);
      }
    }
    if (px.empty()) return at::Tensor();
    const std::vector<at::Tensor> feats = m.image_features(px);  // (F_i, D) each
    std::vector<at::Tensor> out;
    for (size_t r : rows) out.push_back(feats[r]);
    return at::cat(out, 0);
  };
  // Decoder positions of a micro-batch (M-RoPE needs each row's image grid; 1-D models count tokens).
  auto positions_of = [&](model::Vlm& m, const MicroBatch& mb, size_t begin, size_t end) {
    std::vector<at::Tensor> px;
    for (size_t i = begin; i < end; ++i) {
      for (int64_t image : f.sequences[i].images) px.push_back(f.pixel_values[static_cast<size_t>(image)]);
    }
    return m.positions(mb.ids, mb.attention, px);
  };

  // Vision tower once per image for the whole step, without gradient: what a frozen tower gives every pass,
  // and what the old-log-prob and shared-tower reference passes read. A trainable tower in a single pass
  // without them needs none of it (its differentiated pass runs the tower itself).
  const bool single_pass = o.ppo_epochs * o.mini_batches == 1 && !(use_ref && o.kl_in_reward);
  const bool need_vision = frozen || !single_pass || (use_ref && o.reference_shares_vision);
  std::vector<at::Tensor> vision(f.pixel_values.size());
  if (need_vision) {
    for (size_t i = 0; i < vision.size(); ++i) vision[i] = policy.vision_features(f.pixel_values[i]);
  }
  // The selected vision features of the given sequences' images, rows in order (as collate lays them out).
  auto vision_rows = [&](const std::vector<size_t>& seqs) {
    std::vector<at::Tensor> rows;
    for (size_t i : seqs) {
      for (int64_t image : f.sequences[i].images) {
        const at::Tensor& v = vision[static_cast<size_t>(image)];
        if (v.defined()) rows.push_back(v.reshape({-1, v.size(-1)}));
      }
    }
    return rows.empty() ? at::Tensor() : at::cat(rows, 0);
  };

  // Micro-batches inside mini-batches: mini-batch m holds this rank's sequences [cut[m], cut[m+1]).
  std::vector<size_t> cut(static_cast<size_t>(o.mini_batches) + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    const int64_t m = f.mini_batch[i];
    SEER_CHECK(m >= 0 && m < o.mini_batches && (i == 0 || m >= f.mini_batch[i - 1]),
               "policy_update: group mini-batch indices must be in [0, {}) and in order (assign_mini_batches)",
               o.mini_batches);
    cut[static_cast<size_t>(m) + 1] = i + 1;
  }
  for (size_t m = 1; m < cut.size(); ++m) cut[m] = std::max(cut[m], cut[m - 1]);
  {  // length bucketing inside each mini-batch (sequence_batch.h length_order): little padding is computed
    std::vector<size_t> order;
    order.reserve(n);
    for (size_t m = 0; m + 1 < cut.size(); ++m) {
      // With shared prompts a group's samples stay together, so a micro-batch holds few prompts.
      const std::vector<size_t> part = o.share_prompts ? group_length_order(f.sequences, f.group, cut[m], cut[m + 1])
                                                       : length_order(f.sequences, cut[m], cut[m + 1]);
      order.insert(order.end(), part.begin(), part.end());
    }
    permute(f, order);
  }
  struct Micro {
    size_t begin, end;
    int64_t mini;
    MicroBatch batch;
    at::Tensor old, ref, rollout, positions;
    std::optional<model::SharedPrompts> shared;  ///< runs of one group's samples, each prompt computed once
    std::vector<size_t> prompt_rows;             ///< the first sequence of each run
    at::Tensor prompt_images;                    ///< selected vision features of the runs' prompts, in order
  };
  std::vector<Micro> micro;
  for (int64_t m = 0; m < o.mini_batches; ++m) {
    for (size_t b = cut[static_cast<size_t>(m)]; b < cut[static_cast<size_t>(m) + 1]; b += static_cast<size_t>(o.micro_batch_size)) {
      const size_t e = std::min(cut[static_cast<size_t>(m) + 1], b + static_cast<size_t>(o.micro_batch_size));
      Micro mc{b, e, m, collate(f.sequences, b, e, vision, o.pad_id), {}, {}, {}, {}, {}, {}, {}};
      mc.rollout = on_targets(mc.batch.target, f.rollout_logprobs, b);
      mc.positions = positions_of(policy, mc.batch, b, e);
      if (o.share_prompts) {
        model::SharedPrompts sp;
        for (size_t i = b; i < e; ++i) {
          if (i > b && f.group[i] == f.group[i - 1]) {
            ++sp.rows.back();
          } else {
            sp.rows.push_back(1);
            sp.length.push_back(f.prompt_length[i]);
            mc.prompt_rows.push_back(i);
          }
        }
        if (sp.rows.size() < e - b) {  // some prompt has two or more samples here: worth sharing
          mc.shared = std::move(sp);
          mc.prompt_images = vision_rows(mc.prompt_rows);
        }
      }
      micro.push_back(std::move(mc));
    }
  }
  // What a model's pass over `mc` reads, shared (each prompt once) or not (every row): its prompts, and their image
  // features from the vision pass above (`project`) or from a vision pass of this model (`own_tower`).
  auto shared_of = [](const Micro& mc, bool share) { return share && mc.shared ? &*mc.shared : nullptr; };
  auto features = [&](model::Vlm& m, const Micro& mc, bool share, bool own_tower) {
    if (own_tower) {
      if (shared_of(mc, share) != nullptr) return features_of(m, mc.prompt_rows);
      std::vector<size_t> rows(mc.end - mc.begin);
      std::iota(rows.begin(), rows.end(), mc.begin);
      return features_of(m, rows);
    }
    const at::Tensor& images = shared_of(mc, share) != nullptr ? mc.prompt_images : mc.batch.images;
    return images.defined() ? m.project(images) : at::Tensor();
  };

  // Global denominators per mini-batch and global counts, one collective.
  at::Tensor counts = at::zeros({o.mini_batches + 2}, at::kDouble);
  for (const Micro& mc : micro) {
    counts[mc.mini] += aggregation_denominator(mc.batch.target, o.aggregation);
  }
  counts[o.mini_batches] = static_cast<double>(count_targets(f.sequences));
  counts[o.mini_batches + 1] = static_cast<double>(n);
  comm.all_reduce_sum(counts);
  st.tokens = counts[o.mini_batches].item<double>();
  st.sequences = counts[o.mini_batches + 1].item<double>();

  // Old log-probs: with one optimizer step per learner step the policy is unchanged until after the only
  // backward pass, so the current pass's detached values are the old ones (identical numbers, one pass less).
  // (A KL penalty in the reward needs them before the update, to recompute the advantages.)
  const bool kl_in_reward = use_ref && o.kl_in_reward;
  SEER_CHECK(!kl_in_reward || o.advantage.estimator != AdvantageEstimator::kReinforcePlusPlusBaseline ||
                 comm.world_size() == 1,
             "algorithm.kl_in: reward with advantage reinforce_pp_baseline needs the batch std over all ranks; "
             "run one learner rank or put the KL in the loss");
  auto t0 = Clock::now();
  if (!single_pass) {
    torch::NoGradGuard no_grad;
    model::WeightCastCache casts;  // bf16 products: each weight cast once for all micro-batches
    for (Micro& mc : micro) {
      mc.old = policy.token_logprobs(mc.batch.ids, mc.batch.attention, features(policy, mc, true, false),
                                     mc.batch.target, o.temperature, false, mc.positions, shared_of(mc, true)).logprobs;
    }
  }
  st.seconds_old = since(t0);
  t0 = Clock::now();
  if (use_ref) {
    torch::NoGradGuard no_grad;
    model::WeightCastCache casts;
    std::optional<model::AdaptersOff> base_only;  // LoRA: the reference is the policy without its adapters
    if (reference == &policy) base_only.emplace();
    for (Micro& mc : micro) {
      const at::Tensor feats = features(*reference, mc, true, !o.reference_shares_vision);
      mc.ref = reference->token_logprobs(mc.batch.ids, mc.batch.attention, feats, mc.batch.target, o.temperature, false,
                                         mc.positions, shared_of(mc, true)).logprobs;
    }
  }
  st.seconds_ref = since(t0);
  ClipLossOptions clip = o.clip;
  if (kl_in_reward) {
    // r_i - beta * sum_t KL_t(old || ref), then the advantages of this rank's groups again (whole groups live
    // on one rank, so per-group statistics are exact).
    std::vector<std::optional<double>> adjusted(n);
    for (const Micro& mc : micro) {
      auto kl = kl_penalty(mc.old, mc.ref, o.clip.kl);
      auto per_seq = at::where(mc.batch.target, kl, at::zeros_like(kl)).sum(1).to(at::kDouble).contiguous();
      for (size_t i = mc.begin; i < mc.end; ++i) {
        adjusted[i] = f.rewards[i] - o.clip.beta * per_seq[static_cast<int64_t>(i - mc.begin)].item<double>();
      }
    }
    f.advantages = compute_advantages(f.group_ids, adjusted, o.advantage);
    clip.beta = 0.0;  // the KL is in the reward, not in the loss
  }

  // Sums for the reported statistics (this rank), reduced at the end.
  double loss_sum = 0, kl_sum = 0, ent_sum = 0, clip_sum = 0, mis_sum = 0, mis_n = 0;
  double slots = 0, filled = 0;  // token positions each pass computes, and how many of them are not padding
  for (const Micro& mc : micro) {
    filled += static_cast<double>(mc.batch.attention.sum().item<int64_t>());
    if (!mc.shared) {
      slots += static_cast<double>(mc.batch.ids.numel());
      continue;
    }
    // Each prompt once, padded to the longest prompt; each row's remainder padded to the longest remainder.
    const auto& sp = *mc.shared;
    int64_t longest_prompt = 0, longest_rest = 0;
    for (size_t u = 0; u < sp.rows.size(); ++u) longest_prompt = std::max(longest_prompt, sp.length[u]);
    for (size_t i = mc.begin; i < mc.end; ++i) {
      longest_rest = std::max(longest_rest, static_cast<int64_t>(f.sequences[i].ids.size()) - f.prompt_length[i]);
    }
    for (size_t u = 0; u < sp.rows.size(); ++u) filled -= static_cast<double>(sp.length[u] * (sp.rows[u] - 1));
    slots += static_cast<double>(static_cast<int64_t>(sp.rows.size()) * longest_prompt +
                                 static_cast<int64_t>(mc.end - mc.begin) * longest_rest);
  }
  t0 = Clock::now();
  double allreduce_seconds = 0, allreduce_bytes = 0;
  for (int64_t epoch = 0; epoch < o.ppo_epochs; ++epoch) {
    for (int64_t m = 0; m < o.mini_batches; ++m) {
      const double denom = counts[m].item<double>();
      const Micro* last = nullptr;  // this mini-batch's last micro-batch on this rank: its backward overlaps the all-reduce
      for (const Micro& mc : micro) {
        if (mc.mini == m) last = &mc;
      }
      for (Micro& mc : micro) {
        if (mc.mini != m) continue;
        const bool first = epoch == 0;
        // A trainable vision tower runs inside the differentiated pass; a frozen one was run once above.
        // Activation checkpointing recomputes layers from their input alone: the policy pass then runs unshared.
        const bool share = !policy.gradient_checkpointing();
        auto lp = policy.token_logprobs(mc.batch.ids, mc.batch.attention, features(policy, mc, share, !frozen),
                                        mc.batch.target, o.temperature, first || o.entropy_coef != 0.0, mc.positions,
                                        shared_of(mc, share));
        at::Tensor logp = lp.logprobs;
        at::Tensor old = single_pass ? logp.detach() : mc.old;
        const at::Tensor& mask = mc.batch.target;
        at::Tensor adv = at::tensor(std::vector<double>(f.advantages.begin() + static_cast<int64_t>(mc.begin),
                                                        f.advantages.begin() + static_cast<int64_t>(mc.end)),
                                    at::kDouble).to(at::kFloat);
        at::Tensor old_for_ratio = old;
        if (o.sequence_level_ratio) {
          // GSPO-token: every token's ratio has the value of the sequence ratio s_i and the gradient
          // s_i * grad log p_t (Zheng et al. 2025, eq. 13-14).
          auto diff = at::where(mask, logp.detach() - old, at::zeros_like(logp));
          auto seq = diff.sum(1) / mask.sum(1).clamp_min(1).to(at::kFloat);  // log s_i
          old_for_ratio = logp.detach() - seq.unsqueeze(1);
        }
        at::Tensor token_loss = clipped_token_loss(logp, old_for_ratio, adv, mask, clip, use_ref ? mc.ref : at::Tensor());
        if (o.entropy_coef != 0.0) {
          token_loss = token_loss - o.entropy_coef * at::where(mask, lp.entropy, at::zeros_like(lp.entropy));
        }
        at::Tensor loss = aggregate(token_loss, mask, o.aggregation, o.norm_len, denom);
        if (o.reducer != nullptr && &mc == last) o.reducer->arm();
        loss.backward();
        loss_sum += loss.item<double>();
        if (first) {
          torch::NoGradGuard no_grad;
          auto ratio = (logp.detach() - old_for_ratio).exp();
          auto a = adv.unsqueeze(1).expand_as(ratio);
          auto clipped = ((a > 0) & (ratio > 1 + o.clip.eps_high)) | ((a < 0) & (ratio < 1 - o.clip.eps_low));
          clip_sum += (clipped & mask).sum().item<double>();
          ent_sum += at::where(mask, lp.entropy, at::zeros_like(lp.entropy)).sum().item<double>();
          if (use_ref) {
            auto kl = kl_penalty(logp.detach(), mc.ref, o.clip.kl);
            kl_sum += at::where(mask, kl, at::zeros_like(kl)).sum().item<double>();
          }
          // Rollout-vs-learner mismatch, on tokens that carry a rollout log-prob.
          bool any_rollout = false;
          for (size_t i = mc.begin; i < mc.end; ++i) any_rollout |= !f.rollout_logprobs[i]->empty();
          if (any_rollout) {
            at::Tensor has = mask.clone();
            for (size_t i = mc.begin; i < mc.end; ++i) {
              if (f.rollout_logprobs[i]->empty()) has[static_cast<int64_t>(i - mc.begin)].fill_(false);
            }
            mis_sum += at::where(has, (old - mc.rollout).abs(), at::zeros_like(old)).sum().item<double>();
            mis_n += has.sum().item<double>();
          }
        }
      }
      const GradientStepStats g = apply_gradients(optimizer, comm, o.max_grad_norm, o.bucket_bytes, o.reducer);
      allreduce_seconds += g.sync.seconds;
      allreduce_bytes += static_cast<double>(g.sync.bytes);
      st.allreduce_bus_bandwidth = g.sync.bus_bandwidth();
      st.grad_norm = g.grad_norm;
      ++st.optimizer_steps;
    }
  }
  st.seconds_update = since(t0);
  st.seconds_allreduce = allreduce_seconds;

  at::Tensor sums = at::tensor(std::vector<double>{loss_sum, kl_sum, ent_sum, clip_sum, mis_sum, mis_n, slots, filled}, at::kDouble);
  comm.all_reduce_sum(sums);
  auto s = sums.accessor<double, 1>();
  st.loss = s[0] / static_cast<double>(o.ppo_epochs * o.mini_batches);
  const double tok = std::max(1.0, st.tokens);
  st.kl = s[1] / tok;
  st.entropy = s[2] / tok;
  st.clip_fraction = s[3] / tok;
  st.logprob_mismatch = s[5] > 0 ? s[4] / s[5] : 0.0;
  st.padding_fraction = s[6] > 0 ? 1.0 - s[7] / s[6] : 0.0;
  return st;
}

}  // namespace seer::trainer
