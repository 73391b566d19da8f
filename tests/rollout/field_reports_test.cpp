// Field reports from other RL frameworks, each a test of seer's own path from a generated row to what is
// scored and what is trained (the `tiny` preset, random weights):
//  - the scored text is the assistant prefill and the completion, never the prompt: frameworks that decoded
//    prompt + response rewarded an example answer the instructions held (`e.g. <answer>B</answer>`);
//  - the loss mask and the finish reason come from the recorded stop position, never from token values: a
//    second EOS id equal to the pad id (Qwen2's <|endoftext|> is both) stays in the loss and is no truncation;
//  - the G rows of one prompt (one prefill, the KV cache copied to every row) and two workers started from
//    one config sample different completions.
#include <filesystem>
#include <set>

#include <gtest/gtest.h>
#include <unistd.h>

#include "dataset/task_writer.h"
#include "model/generate.h"
#include "model/inputs.h"
#include "model/presets.h"
#include "model/vlm.h"
#include "reward/scorer.h"
#include "rollout/completion.h"
#include "rollout/worker.h"
#include "trainer/sequence_batch.h"

namespace seer {
namespace {

namespace fs = std::filesystem;

const char* kSystem = "Think first. Answer with one letter, e.g. <answer>B</answer>.";
const char* kQuestion = "Which letter is drawn? For example <think>it is B</think><answer>B</answer>";

struct Fixture {
  fs::path dir;
  std::unique_ptr<model::Vlm> vlm;
  std::unique_ptr<model::ModelInputs> inputs;
  model::Prompt prompt;
  model::ImageGeometry geometry;
  std::string prompt_text;

  Fixture() {
    dir = fs::temp_directory_path() / ("seer-field-reports-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    model::init_model("tiny", dir.string(), 1, false);
    vlm = model::Vlm::load(dir.string());
    vlm->set_train(false);
    model::InputOptions io;
    io.system_prompt = kSystem;
    io.assistant_prefill = "<think>";
    inputs = std::make_unique<model::ModelInputs>(model::ModelInputs::load(dir.string(), vlm->config(), io));
    dataset::Image image(40, 40, 3, 90);
    const std::string png = (dir / "img.png").string();
    dataset::write_png(png, image);
    const model::PromptImages images = inputs->images({png});
    const model::PromptTokens pt = inputs->prompt(kQuestion, images.tokens, "row-1");
    prompt_text = pt.text;
    std::vector<int64_t> ids(pt.ids.begin(), pt.ids.end());
    prompt.ids = at::tensor(ids, at::kLong);
    prompt.images = images.pixel_values;
    geometry = images.geometry.at(0);
  }
  ~Fixture() { fs::remove_all(dir); }

  model::SamplingParams sampling(double temperature, int64_t max_new_tokens, uint64_t seed) const {
    model::SamplingParams sp;
    sp.temperature = temperature;
    sp.max_new_tokens = max_new_tokens;
    sp.stop_ids = inputs->stop_ids();
    if (inputs->spec().image_token_id >= 0) sp.banned_ids = {inputs->spec().image_token_id};
    sp.seed = seed;
    return sp;
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

std::vector<std::vector<int32_t>> rows_of(const model::Generation& gen) {
  std::vector<std::vector<int32_t>> out;
  for (int64_t r = 0; r < static_cast<int64_t>(gen.lengths.size()); ++r) out.push_back(rollout::completion_ids(gen, r));
  return out;
}

TEST(FieldReports, ScoredTextIsThePrefillAndTheCompletionNeverThePrompt) {
  Fixture& f = fixture();
  // the example answer is really in the prompt the model sees, system turn and question both
  ASSERT_NE(f.prompt_text.find("e.g. <answer>B</answer>"), std::string::npos) << f.prompt_text;
  ASSERT_NE(f.prompt_text.find("<answer>B</answer>"), f.prompt_text.rfind("<answer>B</answer>"));
  const model::Generation gen = model::generate(*f.vlm, {f.prompt}, 4, f.sampling(1.0, 12, 5));
  const auto rows = rows_of(gen);
  for (size_t r = 0; r < rows.size(); ++r) {
    const bool truncated = gen.finish[r] == model::FinishReason::kLength;
    const reward::Sample s =
        rollout::reward_sample(*f.inputs, rows[r], truncated, "B", "choice", {"A", "B", "C"}, 12, f.geometry);
    EXPECT_EQ(s.prefill, "<think>");
    EXPECT_EQ(s.completion, f.inputs->tokenizer().decode(rows[r], true)) << "row " << r;
    EXPECT_EQ(s.completion.find("e.g."), std::string::npos) << s.completion;
    EXPECT_EQ(s.completion.find("Which letter"), std::string::npos) << s.completion;
    const reward::Score score = reward::score_sample(s, reward::ScoringOptions{});
    // random weights do not write "<answer>B</answer>"; a leaked prompt would have scored 1
    ASSERT_EQ(s.completion.find("<answer>B</answer>"), std::string::npos);
    EXPECT_LT(score.total, 0.5) << "row " << r << ": " << s.completion;
  }
}

TEST(FieldReports, AStopIdEqualToThePadIdStaysInTheLossAndIsNoTruncation) {
  Fixture& f = fixture();
  const int64_t pad = f.inputs->pad_id();
  // Only the pad id may be sampled, and it is a stop id (a second EOS that equals the pad id).
  model::SamplingParams sp = f.sampling(0.0, 8, 1);
  if (std::find(sp.stop_ids.begin(), sp.stop_ids.end(), pad) == sp.stop_ids.end()) sp.stop_ids.push_back(pad);
  sp.banned_ids.clear();
  for (int64_t id = 0; id < f.vlm->config().text.vocab_size; ++id) {
    if (id != pad) sp.banned_ids.push_back(id);
  }
  const model::Generation gen = model::generate(*f.vlm, {f.prompt}, 2, sp);
  ASSERT_EQ(gen.lengths.size(), 2u);
  for (size_t r = 0; r < 2; ++r) {
    EXPECT_EQ(gen.lengths[r], 1) << "stopped at its first token";
    EXPECT_EQ(gen.finish[r], model::FinishReason::kStop) << "a stop, not max_new_tokens";
    const auto ids = rollout::completion_ids(gen, static_cast<int64_t>(r));
    ASSERT_EQ(ids, std::vector<int32_t>{static_cast<int32_t>(pad)}) << "the stop token is kept";
  }
  // The learner's sequence: prompt + completion, the completion's tokens as targets. The collated batch masks
  // by each row's length, not by id == pad: the stop token that equals the pad id is attended and trained on,
  // while the real padding of a shorter row beside it is neither.
  std::vector<trainer::Sequence> seqs(2);
  const auto prompt = std::vector<int32_t>(f.prompt.ids.data_ptr<int64_t>(), f.prompt.ids.data_ptr<int64_t>() + f.prompt.ids.numel());
  seqs[0].ids = prompt;
  seqs[0].ids.push_back(static_cast<int32_t>(pad));
  seqs[0].target.assign(prompt.size(), 0);
  seqs[0].target.push_back(1);
  seqs[1].ids.assign(prompt.begin(), prompt.end() - 1);  // one token shorter: padded by one
  seqs[1].target.assign(seqs[1].ids.size(), 0);
  seqs[1].target.back() = 1;
  const trainer::MicroBatch mb = trainer::collate(seqs, 0, 2, {}, pad);
  const int64_t last = static_cast<int64_t>(prompt.size());
  EXPECT_EQ(mb.ids[0][last].item<int64_t>(), pad);
  EXPECT_TRUE(mb.attention[0][last].item<bool>());
  EXPECT_TRUE(mb.target[0][last].item<bool>());
  EXPECT_EQ(mb.ids[1][last].item<int64_t>(), pad);  // real padding: same id, masked out
  EXPECT_FALSE(mb.attention[1][last].item<bool>());
  EXPECT_FALSE(mb.target[1][last].item<bool>());
  EXPECT_EQ(mb.tokens, 2);
}

TEST(FieldReports, RowsOfOnePromptAndWorkersFromOneConfigSampleDifferently) {
  Fixture& f = fixture();
  const model::Generation gen = model::generate(*f.vlm, {f.prompt}, 8, f.sampling(1.0, 8, 7));
  const auto rows = rows_of(gen);
  EXPECT_EQ(std::set<std::vector<int32_t>>(rows.begin(), rows.end()).size(), 8u) << "8 rows sharing one prefill";
  // Two workers started with the same config (seed 1) but their own ids; a restarted worker keeps its stream.
  const uint64_t a = rollout::sampling_seed(1, "host-a-100"), b = rollout::sampling_seed(1, "host-b-100");
  EXPECT_NE(a, b);
  EXPECT_EQ(a, rollout::sampling_seed(1, "host-a-100"));
  const auto rows_a = rows_of(model::generate(*f.vlm, {f.prompt}, 4, f.sampling(1.0, 8, a)));
  const auto rows_b = rows_of(model::generate(*f.vlm, {f.prompt}, 4, f.sampling(1.0, 8, b)));
  for (const auto& row : rows_a) EXPECT_EQ(std::count(rows_b.begin(), rows_b.end(), row), 0);
  EXPECT_EQ(rows_of(model::generate(*f.vlm, {f.prompt}, 4, f.sampling(1.0, 8, a))), rows_a);
}

}  // namespace
}  // namespace seer
