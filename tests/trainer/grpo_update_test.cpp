// The GRPO policy update on the `tiny` preset model: gradients of the loss against central finite
// differences (float64 model), 2 ranks on half the groups each == 1 rank on all of them (updated
// parameters), a rank with no groups, and no NaN/Inf reaching parameters for degenerate inputs.
#include <cmath>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/presets.h"
#include "model/vlm.h"
#include "core/check.h"
#include "core/config_load.h"
#include "trainer/algorithm_options.h"
#include "trainer/grpo_update.h"
#include "trainer/optimizer.h"
#include "trainer/sequence_batch.h"

namespace seer::trainer {
namespace {

const model::VlmConfig& tiny() {
  static const model::VlmConfig c = model::preset_config("tiny");
  return c;
}

std::unique_ptr<model::Vlm> make_model(uint64_t seed, at::ScalarType dtype = at::kFloat, bool freeze_vision = true) {
  model::LoadOptions o;
  o.dtype = dtype;
  o.freeze_vision_tower = freeze_vision;
  return model::Vlm::create(tiny(), seed, o);
}

/// A prompt with the image placeholders expanded: a few text tokens, F placeholders, a few more.
std::vector<int32_t> prompt_ids(int64_t variant) {
  std::vector<int32_t> ids = {257, static_cast<int32_t>(100 + variant), 10};
  for (int64_t i = 0; i < tiny().image_feature_count(); ++i) ids.push_back(static_cast<int32_t>(tiny().image_token_index));
  for (int i = 0; i < 4; ++i) ids.push_back(static_cast<int32_t>(40 + variant * 3 + i));
  return ids;
}

/// `groups` groups of G = 4 with varied lengths and rewards (deterministic).
std::vector<Group> make_groups(int64_t groups, bool with_rollout_logprobs = true, at::ScalarType dtype = at::kDouble) {
  std::vector<Group> out;
  at::Generator gen = at::detail::createCPUGenerator(7);
  for (int64_t g = 0; g < groups; ++g) {
    Group grp;
    grp.prompt_id = fmt::format("p{}", g);  // not "p" + to_string: GCC 12 -Wstringop-overflow false positive in C++20
    grp.prompt = prompt_ids(g);
    grp.pixel_values = {at::randn({1, 3, 32, 32}, gen).to(dtype)};
    for (int64_t k = 0; k < 4; ++k) {
      Completion c;
      const int64_t len = 3 + (g + k) % 4;
      for (int64_t t = 0; t < len; ++t) c.tokens.push_back(static_cast<int32_t>(60 + (g * 7 + k * 3 + t * 5) % 150));
      if (with_rollout_logprobs) c.rollout_logprobs.assign(static_cast<size_t>(len), -5.6f);
      c.reward = static_cast<double>((g + k) % 3) * 0.5;
      grp.completions.push_back(std::move(c));
    }
    out.push_back(std::move(grp));
  }
  return out;
}

PolicyUpdateOptions options() {
  PolicyUpdateOptions o;
  o.clip.eps_low = 0.2;
  o.clip.eps_high = 0.28;
  o.clip.beta = 0.04;
  o.ppo_epochs = 2;
  o.mini_batches = 2;
  o.micro_batch_size = 3;
  o.max_grad_norm = 1.0;
  o.bucket_bytes = 64 << 10;  // several buckets
  o.pad_id = 256;
  return o;
}

/// Tests that compare two runs to 1e-9 or better run each op on one intra-op thread. Twice in about 20 CI runs of
/// the CUDA-LibTorch 2.x build (never in the LibTorch 1.13 one), a comparison here missed: 2.5e-9 on an entropy,
/// 1e-5 on an update; never in 80 repetitions since, alone or under load. The cause is not found; what differs
/// between the builds and with load is how the intra-op pool runs beside the rank threads, so these tests take
/// it out (the property they test is the algorithm's, not the thread pool's). If one fails again with this in
/// place, the parameter check below says whether anything moved.
class OneIntraOpThread {
 public:
  OneIntraOpThread() : saved_(at::get_num_threads()) { at::set_num_threads(1); }
  ~OneIntraOpThread() { at::set_num_threads(saved_); }
  OneIntraOpThread(const OneIntraOpThread&) = delete;
  OneIntraOpThread& operator=(const OneIntraOpThread&) = delete;

 private:
  int saved_;
};

std::map<std::string, at::Tensor> trainable(model::Vlm& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, p] : m.named_parameters()) {
    if (p.requires_grad()) out[name] = p;
  }
  return out;
}

std::map<std::string, at::Tensor> snapshot(model::Vlm& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, p] : m.named_parameters()) out[name] = p.detach().clone();
  return out;
}

TEST(GrpoUpdate, LossGradientMatchesFiniteDifferences) {
  auto policy = make_model(3, at::kDouble);
  auto reference = make_model(4, at::kDouble);
  auto groups = make_groups(2);
  assign_advantages(groups, {});
  // One micro-batch of every sequence, the loss exactly as policy_update builds it, with old log-probs
  // shifted so that ratios differ from 1 and some tokens are clipped.
  std::vector<Sequence> seqs;
  std::vector<double> adv;
  std::vector<at::Tensor> vision;
  for (size_t g = 0; g < groups.size(); ++g) {
    vision.push_back(policy->vision_features(groups[g].pixel_values[0]));
    for (const auto& c : groups[g].completions) {
      Sequence s;
      s.ids = groups[g].prompt;
      s.ids.insert(s.ids.end(), c.tokens.begin(), c.tokens.end());
      s.target.assign(groups[g].prompt.size(), 0);
      s.target.resize(s.ids.size(), 1);
      s.images = {static_cast<int64_t>(g)};
      seqs.push_back(s);
      adv.push_back(c.advantage);
    }
  }
  const MicroBatch mb = collate(seqs, 0, seqs.size(), vision, 256);
  const auto advantages = at::tensor(adv, at::kDouble);
  const auto ref = reference->token_logprobs(mb.ids, mb.attention, reference->project(mb.images), mb.target).logprobs.detach();
  at::Tensor old;
  {
    torch::NoGradGuard ng;
    old = policy->token_logprobs(mb.ids, mb.attention, policy->project(mb.images), mb.target).logprobs;
    old = old + 0.3 * at::sin(at::arange(old.numel(), at::kDouble).view(old.sizes()));
  }
  ClipLossOptions co;
  co.beta = 0.04;
  co.eps_high = 0.28;
  auto loss_fn = [&] {
    auto logp = policy->token_logprobs(mb.ids, mb.attention, policy->project(mb.images), mb.target).logprobs;
    return aggregate(clipped_token_loss(logp, old, advantages, mb.target, co, ref), mb.target, Aggregation::kTokenMean);
  };
  auto params = trainable(*policy);
  auto loss = loss_fn();
  loss.backward();
  int checked = 0;
  for (const char* name : {"multi_modal_projector.linear_1.weight", "language_model.model.layers.0.self_attn.q_proj.weight",
                           "language_model.model.layers.1.mlp.down_proj.weight", "language_model.model.embed_tokens.weight"}) {
    ASSERT_TRUE(params.count(name)) << name;
    at::Tensor p = params[name];
    at::Tensor grad = p.grad().clone();
    // The coordinates with the largest analytic gradients (a zero gradient would prove little).
    auto top = std::get<1>(grad.abs().flatten().topk(3));
    for (int64_t i = 0; i < top.size(0); ++i) {
      const int64_t idx = top[i].item<int64_t>();
      const double h = 1e-6;
      double plus, minus;
      {
        torch::NoGradGuard ng;
        p.view(-1)[idx] += h;
        plus = loss_fn().item<double>();
        p.view(-1)[idx] -= 2 * h;
        minus = loss_fn().item<double>();
        p.view(-1)[idx] += h;
      }
      const double numeric = (plus - minus) / (2 * h);
      const double analytic = grad.view(-1)[idx].item<double>();
      EXPECT_NEAR(analytic, numeric, 1e-6 + 1e-5 * std::abs(numeric)) << name << "[" << idx << "]";
      EXPECT_GT(std::abs(analytic), 1e-8) << name;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 12);
}

/// Runs policy_update on `world` thread ranks, rank r getting shares[r] (indices into `groups`); returns
/// the parameters of each rank after the update.
std::vector<std::map<std::string, at::Tensor>> run_ranks(const std::vector<Group>& groups,
                                                         const std::vector<std::vector<size_t>>& shares,
                                                         const PolicyUpdateOptions& o,
                                                         std::vector<PolicyUpdateStats>* stats = nullptr,
                                                         uint64_t reference_seed = 11) {
  const size_t world = shares.size();
  std::vector<std::unique_ptr<model::Vlm>> policies, references;
  std::vector<std::unique_ptr<AdamW>> optimizers;
  for (size_t r = 0; r < world; ++r) {  // created here: Vlm::create seeds the global generator
    // float64: a parameter whose true gradient is 0 (e.g. k_proj.bias: softmax ignores a constant key
    // shift) gets float32 round-off as gradient, which Adam's normalisation turns into full-size steps
    // that differ with the summation order; in float64 that noise stays below Adam's epsilon.
    policies.push_back(make_model(11, at::kDouble));
    references.push_back(make_model(reference_seed, at::kDouble));
    AdamWOptions ao;
    ao.lr = 1e-3;
    ao.weight_decay = 0.01;
    optimizers.push_back(std::make_unique<AdamW>(trainable(*policies[r]), ao));
  }
  auto comms = world == 1 ? std::vector<std::unique_ptr<Communicator>>{} : make_thread_communicators(static_cast<int>(world));
  if (world == 1) comms.push_back(make_single_communicator());
  std::vector<PolicyUpdateStats> st(world);
  std::vector<std::thread> threads;
  for (size_t r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      std::vector<Group> local;
      for (size_t i : shares[r]) local.push_back(groups[i]);
      st[r] = policy_update(*policies[r], references[r].get(), *optimizers[r], *comms[r], local, o);
    });
  }
  for (auto& t : threads) t.join();
  if (stats) *stats = st;
  std::vector<std::map<std::string, at::Tensor>> out;
  for (auto& p : policies) out.push_back(snapshot(*p));
  return out;
}

double rel(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).norm().item<double>() / std::max(1e-30, b.norm().item<double>());
}

TEST(GrpoUpdate, TwoRanksOnHalvesEqualOneRankOnAll) {
  OneIntraOpThread one_thread;
  auto groups = make_groups(4);
  assign_advantages(groups, {});
  const auto o = options();
  assign_mini_batches(groups, o.mini_batches);
  std::vector<PolicyUpdateStats> st1, st2;
  const auto one = run_ranks(groups, {{0, 1, 2, 3}}, o, &st1);
  const auto two = run_ranks(groups, {{0, 2}, {1, 3}}, o, &st2);
  const auto before = snapshot(*make_model(11, at::kDouble));
  for (const auto& [name, p] : one[0]) {
    for (int r = 0; r < 2; ++r) EXPECT_LT(rel(two[static_cast<size_t>(r)].at(name), p), 1e-5) << name << " rank " << r;
    // and the update itself (not only the parameters) agrees
    const auto d1 = p - before.at(name);
    if (d1.norm().item<double>() > 0) {
      EXPECT_LT(rel(two[0].at(name) - before.at(name), d1), 1e-6) << name;
    }
  }
  EXPECT_EQ(st1[0].optimizer_steps, 4);
  EXPECT_DOUBLE_EQ(st2[0].tokens, st1[0].tokens);
  EXPECT_NEAR(st2[1].loss, st1[0].loss, 1e-5 * std::max(1.0, std::abs(st1[0].loss)));
  EXPECT_NEAR(st2[0].kl, st1[0].kl, 1e-6);
  EXPECT_GT(st1[0].clip_fraction, 0.0);  // 2 epochs: the second moves the ratio
  EXPECT_GT(st1[0].logprob_mismatch, 0.0);
}

TEST(GrpoUpdate, RankWithNoGroupsNeitherHangsNorDiverges) {
  auto groups = make_groups(3);
  assign_advantages(groups, {});
  const auto o = options();
  assign_mini_batches(groups, o.mini_batches);
  const auto one = run_ranks(groups, {{0, 1, 2}}, o);
  const auto two = run_ranks(groups, {{0, 1, 2}, {}}, o);
  for (const auto& [name, p] : one[0]) {
    EXPECT_LT(rel(two[0].at(name), p), 1e-5) << name;
    EXPECT_LT(rel(two[1].at(name), p), 1e-5) << name;
  }
}

TEST(GrpoUpdate, GspoAndSeqMeanVariantsMatchAcrossRanks) {
  auto groups = make_groups(4);
  assign_advantages(groups, {});
  for (auto agg : {Aggregation::kSeqMeanTokenMean, Aggregation::kSeqMeanTokenSumNorm}) {
    auto o = options();
    o.aggregation = agg;
    o.sequence_level_ratio = agg == Aggregation::kSeqMeanTokenMean;
    o.norm_len = 8;
    assign_mini_batches(groups, o.mini_batches);
    const auto one = run_ranks(groups, {{0, 1, 2, 3}}, o);
    const auto two = run_ranks(groups, {{3}, {0, 1, 2}}, o);
    for (const auto& [name, p] : one[0]) EXPECT_LT(rel(two[0].at(name), p), 1e-5) << name;
  }
}

TEST(GrpoUpdate, KlInRewardMatchesAcrossRanksAndDiffersFromKlInLoss) {
  auto groups = make_groups(4);
  assign_advantages(groups, {});
  auto o = options();
  o.clip.beta = 0.5;  // large enough to change the advantages' ordering effect
  assign_mini_batches(groups, o.mini_batches);
  // a reference that differs from the policy, so the per-sequence KL penalties are not 0
  const auto in_loss = run_ranks(groups, {{0, 1, 2, 3}}, o, nullptr, 12);
  o.kl_in_reward = true;
  const auto one = run_ranks(groups, {{0, 1, 2, 3}}, o, nullptr, 12);
  const auto two = run_ranks(groups, {{1, 2}, {0, 3}}, o, nullptr, 12);
  double differs = 0;
  for (const auto& [name, p] : one[0]) {
    EXPECT_LT(rel(two[1].at(name), p), 1e-5) << name;
    differs = std::max(differs, rel(in_loss[0].at(name), p));
  }
  EXPECT_GT(differs, 1e-4);
}

TEST(GrpoUpdate, OptionsFromConfig) {
  const auto c = default_config({"algorithm.eps_high=0.28", "algorithm.kl_in=reward", "algorithm.advantage=rloo",
                                 "algorithm.scale=none", "algorithm.loss_aggregation=seq-mean-token-mean",
                                 "rollout.max_new_tokens=77", "algorithm.kl_estimator=k2"});
  const auto o = policy_update_options(c, 5);
  EXPECT_DOUBLE_EQ(o.clip.eps_high, 0.28);
  EXPECT_DOUBLE_EQ(o.clip.beta, c.algorithm.kl_coef);
  EXPECT_EQ(o.clip.kl, KlEstimator::kK2);
  EXPECT_TRUE(o.kl_in_reward);
  EXPECT_EQ(o.advantage.estimator, AdvantageEstimator::kRloo);
  EXPECT_FALSE(o.advantage.scale_by_std);
  EXPECT_EQ(o.aggregation, Aggregation::kSeqMeanTokenMean);
  EXPECT_DOUBLE_EQ(o.norm_len, 77);
  EXPECT_EQ(o.pad_id, 5);
}

/// Mean token entropy of `m` over the completions of `groups` (the learner's own entropy computation).
double mean_entropy(model::Vlm& m, const std::vector<Group>& groups) {
  torch::NoGradGuard ng;
  std::vector<Sequence> seqs;
  std::vector<at::Tensor> vision;
  for (size_t g = 0; g < groups.size(); ++g) {
    vision.push_back(m.vision_features(groups[g].pixel_values[0].to(at::kDouble)));
    for (const auto& c : groups[g].completions) {
      Sequence s;
      s.ids = groups[g].prompt;
      s.ids.insert(s.ids.end(), c.tokens.begin(), c.tokens.end());
      s.target.assign(groups[g].prompt.size(), 0);
      s.target.resize(s.ids.size(), 1);
      s.images = {static_cast<int64_t>(g)};
      seqs.push_back(s);
    }
  }
  const MicroBatch mb = collate(seqs, 0, seqs.size(), vision, 256);
  auto lp = m.token_logprobs(mb.ids, mb.attention, m.project(mb.images), mb.target, 1.0, true);
  return at::where(mb.target, lp.entropy, at::zeros_like(lp.entropy)).sum().item<double>() /
         mb.target.sum().item<double>();
}

TEST(GrpoUpdate, EntropyBonusRaisesEntropyWhenGroupsCarryNoSignal) {
  OneIntraOpThread one_thread;
  auto groups = make_groups(3);
  for (auto& g : groups) {
    for (auto& c : g.completions) c.reward = 1.0;  // equal rewards: every advantage is 0
  }
  assign_advantages(groups, {});
  auto change = [&](double coef) {
    auto policy = make_model(11, at::kDouble);
    AdamWOptions ao;
    ao.lr = 1e-3;
    AdamW opt(trainable(*policy), ao);
    auto comm = make_single_communicator();
    PolicyUpdateOptions o = options();
    o.clip.beta = 0.0;
    o.ppo_epochs = 1;
    o.mini_batches = 1;
    o.entropy_coef = coef;
    auto local = groups;
    assign_mini_batches(local, 1);
    const auto params_before = snapshot(*policy);
    const double before = mean_entropy(*policy, local);
    policy_update(*policy, nullptr, opt, *comm, local, o);
    const double after = mean_entropy(*policy, local);
    double moved = 0;
    for (const auto& [name, p] : policy->named_parameters()) {
      moved = std::max(moved, (p - params_before.at(name)).abs().max().item<double>());
    }
    return std::make_pair(after - before, moved);
  };
  const auto [without, moved_without] = change(0.0);
  const auto [with, moved_with] = change(0.1);
  // Zero advantages, no bonus: no parameter moves at all (exact zero gradients through Adam), so the entropy stays.
  EXPECT_EQ(moved_without, 0.0);
  EXPECT_LT(std::abs(without), 1e-9);
  EXPECT_GT(moved_with, 0.0);
  EXPECT_GT(with, 1e-4);  // the bonus alone pushes the entropy up
}

TEST(GrpoUpdate, TrainableTowerRunsOncePerGroupWithTheSameUpdate) {
  // A group's G sequences share one image: the learner runs a trainable tower once for them. The update
  // must equal the one where every sequence has its own copy of the image (its own singleton group, the
  // advantages carried over), which runs the tower once per sequence.
  auto groups = make_groups(2);
  assign_advantages(groups, {});
  std::vector<Group> split;
  for (const Group& g : groups) {
    for (size_t k = 0; k < g.completions.size(); ++k) {
      Group s = g;
      s.prompt_id = g.prompt_id + "/" + std::to_string(k);
      s.pixel_values = {g.pixel_values[0].clone()};
      s.completions = {g.completions[k]};
      split.push_back(std::move(s));
    }
  }
  auto update = [&](std::vector<Group> local) {
    auto policy = make_model(11, at::kDouble, /*freeze_vision=*/false);
    AdamWOptions ao;
    ao.lr = 1e-3;
    // eps far above every gradient: the first step is lr·g/eps, linear in the gradient, so the comparison
    // measures the gradients (Adam's sign-like step would turn round-off in near-zero gradients into
    // full-size differences).
    ao.eps = 10.0;
    ao.weight_decay = 0.0;
    AdamW opt(trainable(*policy), ao);
    auto comm = make_single_communicator();
    PolicyUpdateOptions o = options();
    o.clip.beta = 0.0;
    o.ppo_epochs = 1;
    o.mini_batches = 1;
    o.micro_batch_size = 3;  // micro-batches that cut through groups
    assign_mini_batches(local, 1);
    policy_update(*policy, nullptr, opt, *comm, local, o);
    return snapshot(*policy);
  };
  const auto grouped = update(groups), separate = update(split);
  const auto before = snapshot(*make_model(11, at::kDouble, false));
  int tower_moved = 0;
  for (const auto& [name, p] : separate) {
    const auto step = p - before.at(name);
    if (step.norm().item<double>() == 0) continue;
    // k_proj.bias has a true gradient of 0 (softmax ignores a constant key shift): round-off only
    EXPECT_LT((grouped.at(name) - p).norm().item<double>(), 1e-8 * step.norm().item<double>() + 1e-18) << name;
    if (name.rfind("vision_tower.", 0) == 0) ++tower_moved;
  }
  EXPECT_GT(tower_moved, 0);  // the tower was trained, so the shared pass carried gradients
}

TEST(GrpoUpdate, EntropyCoefFromConfig) {
  EXPECT_DOUBLE_EQ(policy_update_options(default_config({"algorithm.entropy_coef=0.01"}), 0).entropy_coef, 0.01);
  EXPECT_DOUBLE_EQ(policy_update_options(default_config({}), 0).entropy_coef, 0.0);
}

TEST(SequenceBatch, LengthOrderIsLongestFirstAndStable) {
  std::vector<Sequence> seqs(6);
  const size_t lengths[] = {3, 5, 2, 5, 7, 3};
  for (size_t i = 0; i < 6; ++i) {
    seqs[i].ids.assign(lengths[i], 1);
    seqs[i].target.assign(lengths[i], 1);
  }
  EXPECT_EQ(length_order(seqs, 0, 6), (std::vector<size_t>{4, 1, 3, 0, 5, 2}));
  EXPECT_EQ(length_order(seqs, 2, 5), (std::vector<size_t>{4, 3, 2}));  // indexes stay absolute
  EXPECT_TRUE(length_order(seqs, 3, 3).empty());
  EXPECT_THROW(length_order(seqs, 4, 7), Error);
}

/// Parameter change of one policy_update from the same start, split into micro-batches of `micro` sequences.
/// AdamW with beta1 0 and eps far above every |g| takes the step -(lr / eps) g: the change is the gradient.
std::map<std::string, at::Tensor> gradient_step(const std::vector<Group>& groups, PolicyUpdateOptions o, int64_t micro,
                                                PolicyUpdateStats* st, bool checkpointing = false) {
  auto policy = make_model(11);
  policy->set_gradient_checkpointing(checkpointing);
  auto reference = make_model(12);
  AdamWOptions ao;
  ao.lr = 1e8;
  ao.beta1 = 0.0;
  ao.eps = 1e6;  // step = -100 g (1 - |g| / eps)
  AdamW optimizer(trainable(*policy), ao);
  const auto before = snapshot(*policy);
  auto comm = make_single_communicator();
  o.micro_batch_size = micro;
  *st = policy_update(*policy, reference.get(), optimizer, *comm, groups, o);
  std::map<std::string, at::Tensor> step;
  for (const auto& [name, p] : snapshot(*policy)) step[name] = p - before.at(name);
  return step;
}

/// Compares two parameter changes: over all parameters together, and tensor by tensor where the change is not
/// round-off (a tensor whose true gradient is 0, such as k_proj.bias, gets float32 noise only).
void expect_same_step(const std::map<std::string, at::Tensor>& a, const std::map<std::string, at::Tensor>& b,
                      double tolerance, const std::string& what) {
  std::vector<at::Tensor> fa, fb;
  for (const auto& [name, t] : b) {
    fa.push_back(a.at(name).reshape(-1));
    fb.push_back(t.reshape(-1));
  }
  const at::Tensor all_b = at::cat(fb);
  ASSERT_GT(all_b.norm().item<double>(), 0.0) << what;
  EXPECT_LT(rel(at::cat(fa), all_b), tolerance) << what;
  for (const auto& [name, t] : b) {
    if (t.norm().item<double>() > 1e-3 * all_b.norm().item<double>()) {
      EXPECT_LT(rel(a.at(name), t), tolerance) << what << ": " << name;
    }
  }
}

TEST(GrpoUpdate, LengthBucketedMicroBatchesGiveThePaddedGradient) {
  OneIntraOpThread one_thread;
  auto groups = make_groups(4, true, at::kFloat);  // completion lengths 3..6, each four times, shuffled
  assign_advantages(groups, {});
  PolicyUpdateOptions o = options();  // reference model with a k3 KL term, as in a real step
  o.ppo_epochs = 1;
  o.mini_batches = 1;
  o.max_grad_norm = 0.0;
  o.share_prompts = false;  // rows in length order across groups (shared prompts keep groups together: below)
  assign_mini_batches(groups, 1);
  PolicyUpdateStats alone, padded, bucketed;
  const auto each_alone = gradient_step(groups, o, 1, &alone);      // no padding anywhere: the packed ideal
  const auto one_padded = gradient_step(groups, o, 16, &padded);   // one batch padded to the longest
  const auto by_length = gradient_step(groups, o, 4, &bucketed);   // length buckets of four
  EXPECT_EQ(alone.padding_fraction, 0.0);
  // one batch of 16 rows padded to the longest completion (6): hand count over the 16 lengths
  const double prompt = static_cast<double>(prompt_ids(0).size());
  const double used = 4 * (4 * prompt + 3 + 4 + 5 + 6);
  EXPECT_NEAR(padded.padding_fraction, 1.0 - used / (16 * (prompt + 6)), 1e-12);
  // without bucketing, groups of four in arrival order mix lengths 3..6; sorted, each bucket holds one length
  EXPECT_EQ(bucketed.padding_fraction, 0.0);
  expect_same_step(one_padded, each_alone, 1e-5, "one padded batch vs each sequence alone");
  expect_same_step(by_length, each_alone, 1e-5, "length buckets vs each sequence alone");
  EXPECT_DOUBLE_EQ(bucketed.tokens, alone.tokens);
  EXPECT_NEAR(bucketed.loss, padded.loss, 1e-6);
}

TEST(GrpoUpdate, SharedPromptsGiveTheUnsharedGradient) {
  OneIntraOpThread one_thread;
  auto groups = make_groups(4, true, at::kFloat);  // 4 groups of 4, completion lengths 3..6 shuffled
  assign_advantages(groups, {});
  PolicyUpdateOptions o = options();  // reference model with a k3 KL term: both passes share
  o.ppo_epochs = 1;
  o.mini_batches = 1;
  o.max_grad_norm = 0.0;
  assign_mini_batches(groups, 1);
  o.share_prompts = false;
  PolicyUpdateStats alone, whole, split, checkpointed;
  const auto each_alone = gradient_step(groups, o, 1, &alone);
  o.share_prompts = true;
  const auto one_prompt_each = gradient_step(groups, o, 4, &whole);  // each micro-batch one group: 4 rows, 1 prompt
  const auto mixed = gradient_step(groups, o, 3, &split);            // runs of 3, 1+2, 2+1, ...: groups split
  const auto recomputed = gradient_step(groups, o, 4, &checkpointed, /*checkpointing=*/true);  // reference shares
  expect_same_step(one_prompt_each, each_alone, 1e-5, "one shared prompt per micro-batch vs each sequence alone");
  expect_same_step(mixed, each_alone, 1e-5, "groups split across micro-batches vs each sequence alone");
  expect_same_step(recomputed, each_alone, 1e-5, "gradient checkpointing (policy pass unshared) vs alone");
  EXPECT_NEAR(whole.loss, alone.loss, 1e-6);
  EXPECT_NEAR(whole.kl, alone.kl, 1e-6);
  EXPECT_DOUBLE_EQ(whole.tokens, alone.tokens);
  // Padding counts what is computed: each prompt once (all prompts have one length here), completions padded
  // to the longest of their micro-batch; sorted longest first inside the group.
  const double prompt = static_cast<double>(prompt_ids(0).size());
  double computed = 0, real = 0;
  for (const auto& g : groups) {
    std::vector<double> len;
    for (const auto& c : g.completions) len.push_back(static_cast<double>(c.tokens.size()));
    computed += prompt + 4 * *std::max_element(len.begin(), len.end());
    real += prompt;
    for (double l : len) real += l;
  }
  EXPECT_NEAR(whole.padding_fraction, 1.0 - real / computed, 1e-12);
}

TEST(GrpoUpdate, DegenerateInputsLeaveParametersFinite) {
  auto groups = make_groups(3, /*with_rollout_logprobs=*/false);
  // all rewards equal (zero advantages), unscorable samples, huge rewards, an empty completion
  for (auto& c : groups[0].completions) c.reward = 1.0;
  groups[1].completions[0].reward = std::nullopt;
  groups[1].completions[1].reward = std::numeric_limits<double>::quiet_NaN();
  groups[1].completions[2].reward = 1e300;
  groups[2].completions[0].tokens.clear();
  groups[2].completions[0].reward = 0.0;
  assign_advantages(groups, {});
  for (const auto& g : groups) {
    for (const auto& c : g.completions) EXPECT_TRUE(std::isfinite(c.advantage));
  }
  EXPECT_TRUE(rewards_all_equal(groups[0]));
  EXPECT_FALSE(rewards_all_equal(groups[2]));
  auto o = options();
  o.clip.kl = KlEstimator::kK3;
  assign_mini_batches(groups, o.mini_batches);
  const auto after = run_ranks(groups, {{0, 1, 2}}, o);
  for (const auto& [name, p] : after[0]) EXPECT_TRUE(at::isfinite(p).all().item<bool>()) << name;
}

}  // namespace
}  // namespace seer::trainer
