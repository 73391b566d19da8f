// The rollout worker: a coordinator that never answers is waited for, with backoff, only for
// rollout.coordinator_patience_seconds, then the worker gives up with an error naming the key; completions
// end at the first stop string (the tokens trained on are the tokens scored); reward requests carry the
// image's original and model-input sizes, so a box predicted in the model-input frame scores against a
// gold box in the original frame.
#include <chrono>
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/check.h"
#include "core/config.h"
#include "dataset/task_writer.h"
#include "model/inputs.h"
#include "model/presets.h"
#include "model/vlm.h"
#include "reward/scorer.h"
#include "rollout/completion.h"
#include "rollout/worker.h"

namespace seer {
namespace {

namespace fs = std::filesystem;

TEST(RolloutWorker, GivesUpWhenTheCoordinatorStaysSilentPastItsPatience) {
  const fs::path dir = fs::temp_directory_path() / ("seer-worker-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  model::init_model("tiny", dir.string(), 1, false);
  ExperimentConfig c;
  c.model.path = dir.string();
  c.rollout.coordinator_patience_seconds = 1.5;
  rollout::WorkerOptions o;
  o.worker_id = "w-test";
  o.coordinator.address = "127.0.0.1:1";  // nothing listens on port 1: connection refused
  o.coordinator.timeout_seconds = 2;
  o.reward.address = "127.0.0.1:1";
  std::atomic<bool> stop{false};
  const auto t0 = std::chrono::steady_clock::now();
  try {
    rollout::run_rollout_worker(c, o, stop);
    ADD_FAILURE() << "the worker returned without a coordinator";
  } catch (const Unavailable& e) {
    EXPECT_NE(std::string(e.what()).find("rollout.coordinator_patience_seconds"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:1"), std::string::npos) << e.what();
  }
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GE(waited, 1.5);
  EXPECT_LT(waited, 30.0);  // the patience plus at most one backoff sleep and model loading
  fs::remove_all(dir);
}

struct TinyModel {
  fs::path dir;
  std::unique_ptr<model::ModelInputs> inputs;
  explicit TinyModel(const std::string& name) {
    dir = fs::temp_directory_path() / ("seer-worker-test-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    model::init_model("tiny", dir.string(), 1, false);
    const ExperimentConfig c;
    auto vlm = model::Vlm::load(dir.string());
    inputs = std::make_unique<model::ModelInputs>(model::ModelInputs::load(dir.string(), vlm->config(), model::input_options(c)));
  }
  ~TinyModel() { fs::remove_all(dir); }
};

TEST(Completion, EndsAtTheEarliestStopStringWithItsLastToken) {
  TinyModel m("stop");
  const model::Tokenizer& tok = m.inputs->tokenizer();
  const auto ids = tok.encode("x = 1 STOP y = 2 END z");
  auto kept = [&](const std::vector<std::string>& stops) {
    const size_t n = rollout::cut_at_stop_strings(tok, ids, stops);
    return tok.decode(std::vector<int32_t>(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n)), true);
  };
  EXPECT_EQ(kept({"STOP"}), "x = 1 STOP");
  EXPECT_EQ(kept({"END", "STOP"}), "x = 1 STOP");  // the earliest in the text, not in the list
  EXPECT_EQ(kept({"END"}), "x = 1 STOP y = 2 END");
  EXPECT_EQ(rollout::cut_at_stop_strings(tok, ids, {"nowhere"}), ids.size());
  EXPECT_EQ(rollout::cut_at_stop_strings(tok, ids, {}), ids.size());
  EXPECT_EQ(kept({"x"}), "x");
}

TEST(Completion, RewardRequestCarriesBothImageFramesSoBoxesScoreInTheOriginalFrame) {
  TinyModel m("bbox");
  dataset::Image image(64, 48, 3, 200);
  const std::string png = (m.dir / "img.png").string();
  dataset::write_png(png, image);
  model::ImageGeometry g;
  const at::Tensor pv = m.inputs->pixel_values(png, &g);
  EXPECT_EQ(g.original_width, 64);
  EXPECT_EQ(g.original_height, 48);
  EXPECT_EQ(g.input_width, pv.size(3));
  EXPECT_EQ(g.input_height, pv.size(2));
  // The gold box covers the image's left half in the original frame; the model answers in its input frame.
  const std::string answer = fmt::format("<think>left half</think><answer>[0, 0, {}, {}]</answer>", g.input_width / 2, g.input_height);
  const auto ids = m.inputs->tokenizer().encode(answer);
  const reward::Sample s = rollout::reward_sample(*m.inputs, ids, false, "[0, 0, 32, 48]", "bbox", {}, 64, g);
  EXPECT_EQ(s.original_image.width, 64);
  EXPECT_EQ(s.model_input_image.height, static_cast<double>(g.input_height));
  const reward::Score score = reward::score_sample(s, reward::ScoringOptions{});
  EXPECT_EQ(score.status, reward::Status::kOk);
  EXPECT_DOUBLE_EQ(score.components.at("accuracy"), 1.0);
  // Without the frames the same answer is read in the original frame and misses.
  reward::Sample no_frames = s;
  no_frames.original_image = {};
  no_frames.model_input_image = {};
  EXPECT_LT(reward::score_sample(no_frames, reward::ScoringOptions{}).components.at("accuracy"), 0.5);
}

}  // namespace
}  // namespace seer
