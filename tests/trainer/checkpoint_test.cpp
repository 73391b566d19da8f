// Checkpoints: AdamW state by name survives a round trip exactly; a checkpoint folder verifies against
// its manifest; a truncated or altered file is detected and resume falls back to the previous one;
// keep_last prunes; `latest` names the newest. And the data order a checkpoint's cursor continues.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/atomic_file.h"
#include "core/check.h"
#include "model/presets.h"
#include "model/vlm.h"
#include "trainer/checkpoint.h"
#include "trainer/data_order.h"
#include "trainer/optimizer.h"
#include "trainer/trajectory_buffer.h"

namespace seer::trainer {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("seer-ckpt-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::map<std::string, at::Tensor> trainable(model::Vlm& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, p] : m.named_parameters()) {
    if (p.requires_grad()) out[name] = p;
  }
  return out;
}

/// A deterministic gradient for every trainable parameter.
void fake_backward(model::Vlm& m, double scale) {
  for (auto& [name, p] : trainable(m)) {
    p.mutable_grad() = (at::arange(p.numel(), p.options()).view(p.sizes()) * scale).sin();
  }
}

TEST(AdamWState, RoundTripContinuesExactly) {
  auto a = model::Vlm::create(model::preset_config("tiny"), 5);
  auto b = model::Vlm::create(model::preset_config("tiny"), 5);
  AdamWOptions o;
  o.lr = 1e-2;
  o.weight_decay = 0.1;
  AdamW opt_a(trainable(*a), o);
  fake_backward(*a, 0.1);
  opt_a.step();
  fake_backward(*a, 0.2);
  opt_a.step();
  // b: same weights as a, state copied through state()/load_state
  {
    torch::NoGradGuard ng;
    auto pa = a->named_parameters();
    for (auto& [name, p] : b->named_parameters()) p.copy_(pa.at(name));
  }
  AdamW opt_b(trainable(*b), o);
  const auto state = opt_a.state();
  ASSERT_EQ(state.size(), 3 * trainable(*a).size());
  opt_b.load_state(state, opt_a.steps());
  EXPECT_EQ(opt_b.steps(), 2);
  fake_backward(*a, 0.3);
  fake_backward(*b, 0.3);
  opt_a.step();
  opt_b.step();
  auto pb = b->named_parameters();
  for (const auto& [name, p] : a->named_parameters()) EXPECT_TRUE(at::equal(p, pb.at(name))) << name;
  // A state for another model is refused by name.
  std::map<std::string, at::Tensor> bad = {{"exp_avg/no.such.param", at::zeros({1})}};
  EXPECT_THROW(opt_b.load_state(bad, 1), Error);
}

TEST(AdamWState, PrefixGroupsScaleTheLearningRate) {
  // Adam's first step moves each weight by lr x sign(grad) (bias-corrected m/sqrt(v) = +-1, eps ~ 0), so the
  // projector moves 10x and the vision tower 3x as far as the language model, also after set_lr.
  auto m = model::Vlm::create(model::preset_config("tiny"), 5);
  AdamWOptions o;
  o.lr = 1e-3;
  o.lr_scale_by_prefix = {{"multi_modal_projector.", 10.0}, {"vision_tower.", 3.0}};
  auto params = trainable(*m);
  std::map<std::string, at::Tensor> before;
  for (const auto& [name, p] : params) before[name] = p.detach().clone();
  AdamW opt(params, o);
  opt.set_lr(2e-3);
  EXPECT_DOUBLE_EQ(opt.lr(), 2e-3);
  for (auto& [name, p] : params) p.mutable_grad() = at::ones_like(p);
  opt.step();
  for (const auto& [name, p] : params) {
    const double expected = name.rfind("multi_modal_projector.", 0) == 0 ? 2e-2
                            : name.rfind("vision_tower.", 0) == 0    ? 6e-3
                                                                       : 2e-3;
    const double moved = (before.at(name) - p.detach()).abs().max().item<double>();
    EXPECT_NEAR(moved, expected, expected * 1e-4) << name;
  }
}

TEST(Checkpoint, WritesVerifiesPrunesAndFallsBack) {
  TempDir tmp;
  const fs::path src = tmp.path / "src";
  model::init_model("tiny", src.string(), 1, false);
  auto m = model::Vlm::load(src.string());
  AdamW opt(trainable(*m), {});
  fake_backward(*m, 0.1);
  opt.step();
  const fs::path root = tmp.path / "ckpt";
  TrainerState st;
  st.seed = 9;
  for (int64_t step : {2, 4, 6}) {
    st.step = step;
    st.weight_version = step;
    st.epoch = 1;
    st.cursor = step * 3;
    st.rng_state = std::string("\x00\x01\xff", 3);
    st.matmul = "onednn";
    st.done_prompts = {"1:7", "1:9"};
    save_checkpoint(root.string(), *m, read_model_side_files(src.string()), opt, st, "name: t\n", /*keep_last=*/2);
  }
  auto all = list_checkpoints(root.string());
  ASSERT_EQ(all.size(), 2u);  // step 2 pruned
  EXPECT_EQ(fs::path(all[0]).filename(), "step-00000004");
  EXPECT_EQ(read_file((root / "latest").string()), "step-00000006\n");
  for (const auto& d : all) EXPECT_EQ(verify_checkpoint(d), "") << d;
  const auto s6 = read_trainer_state(all[1]);
  EXPECT_EQ(s6.step, 6);
  EXPECT_EQ(s6.cursor, 18);
  EXPECT_EQ(s6.rng_state, std::string("\x00\x01\xff", 3));
  EXPECT_EQ(s6.matmul, "onednn");
  EXPECT_EQ(s6.done_prompts, (std::vector<std::string>{"1:7", "1:9"}));
  // The model folder loads as a model, with the tokenizer files next to it.
  auto loaded = model::Vlm::load((fs::path(all[1]) / "model").string());
  auto want = m->named_parameters();
  for (const auto& [name, p] : loaded->named_parameters()) EXPECT_TRUE(at::equal(p, want.at(name))) << name;
  EXPECT_TRUE(fs::exists(fs::path(all[1]) / "model" / "tokenizer.json"));
  // Optimizer state restores.
  AdamW opt2(trainable(*loaded), {});
  load_optimizer_state(all[1], opt2);
  EXPECT_EQ(opt2.steps(), 1);

  // Truncate the newest checkpoint's weights: detected, and resume falls back to step 4.
  const fs::path weights = fs::path(all[1]) / "model" / "model.safetensors";
  fs::resize_file(weights, fs::file_size(weights) / 2);
  const std::string problem = verify_checkpoint(all[1]);
  EXPECT_NE(problem.find("model/model.safetensors"), std::string::npos) << problem;
  auto resumable = find_resumable_checkpoint(root.string());
  ASSERT_TRUE(resumable.has_value());
  EXPECT_EQ(fs::path(*resumable).filename(), "step-00000004");
  // Flip one byte of the older one's optimizer state (same size): the CRC catches it.
  {
    std::fstream f(fs::path(all[0]) / "optimizer.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-3, std::ios::end);
    f.put('\x7f');
  }
  EXPECT_NE(verify_checkpoint(all[0]).find("CRC-32"), std::string::npos);
  EXPECT_FALSE(find_resumable_checkpoint(root.string()).has_value());
  // An unfinished checkpoint (no manifest) is never resumed from.
  fs::create_directories(root / "step-00000008");
  EXPECT_NE(verify_checkpoint((root / "step-00000008").string()).find("manifest"), std::string::npos);
}

TEST(DataOrder, SameSeedSameOrderAndCursorContinues) {
  DataOrder a(10, 3, true), b(10, 3, true), c(10, 4, true);
  const auto first = a.next(25);  // crosses two epoch boundaries
  EXPECT_EQ(first, b.next(25));
  EXPECT_NE(first, c.next(25));
  // every epoch is a permutation
  std::vector<int64_t> epoch0(first.begin(), first.begin() + 10);
  std::sort(epoch0.begin(), epoch0.end());
  for (int64_t i = 0; i < 10; ++i) EXPECT_EQ(epoch0[static_cast<size_t>(i)], i);
  EXPECT_EQ(a.epoch(), 2);
  EXPECT_EQ(a.cursor(), 5);
  DataOrder resumed(10, 3, true, a.epoch(), a.cursor());
  EXPECT_EQ(resumed.next(7), a.next(7));
  DataOrder plain(4, 3, false);
  EXPECT_EQ(plain.next(5), (std::vector<int64_t>{0, 1, 2, 3, 0}));
  EXPECT_THROW(DataOrder(0, 1, true), Error);
}

}  // namespace
}  // namespace seer::trainer

namespace seer::trainer {
namespace {

Group group_with_rewards(const std::string& id, std::vector<std::optional<double>> rewards) {
  Group g;
  g.prompt_id = id;
  for (auto r : rewards) {
    Completion c;
    c.tokens = {1};
    c.reward = r;
    g.completions.push_back(c);
  }
  return g;
}

TEST(TrajectoryBuffer, DynamicSamplingDropsEqualRewardGroupsAndWaitsForMore) {
  TrajectoryBuffer buffer(/*dynamic_sampling=*/true, /*max_staleness=*/1);
  buffer.push({group_with_rewards("a", {1.0, 1.0, 1.0}), 3});
  buffer.push({group_with_rewards("b", {0.0, 1.0, 1.0}), 3});
  buffer.push({group_with_rewards("c", {0.0, 0.0, std::nullopt}), 3});  // scored ones all equal
  EXPECT_EQ(buffer.counts().dropped_equal_rewards, 2);
  EXPECT_FALSE(buffer.take(2, 3).has_value());  // one usable group: wait for a refill
  buffer.push({group_with_rewards("d", {0.5, 0.0}), 2});
  auto step = buffer.take(2, 3);
  ASSERT_TRUE(step.has_value());
  EXPECT_EQ((*step)[0].prompt_id, "b");
  EXPECT_EQ((*step)[1].prompt_id, "d");
  EXPECT_EQ(buffer.counts().accepted, 2);
}

TEST(TrajectoryBuffer, StaleGroupsAreDroppedAndCounted) {
  TrajectoryBuffer buffer(false, /*max_staleness=*/0);
  buffer.push({group_with_rewards("old", {1.0, 1.0}), 4});  // equal rewards kept without dynamic sampling
  buffer.push({group_with_rewards("new", {0.0, 1.0}), 5});
  auto step = buffer.take(1, 5);
  ASSERT_TRUE(step.has_value());
  EXPECT_EQ((*step)[0].prompt_id, "new");
  EXPECT_EQ(buffer.counts().dropped_stale, 1);
  EXPECT_EQ(buffer.size(), 0u);
}

}  // namespace
}  // namespace seer::trainer
