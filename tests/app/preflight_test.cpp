// Preflight (app/preflight.h): each check fails on a fixture made to break it, with a finding that names the
// broken thing, and a good run passes. Fixtures: a `tiny` model folder (init_model) and a few PNG rows.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "app/preflight.h"
#include "dataset/task_writer.h"
#include "model/presets.h"
#include "model/safetensors.h"

namespace seer::app {
namespace {

namespace fs = std::filesystem;

class Preflight : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("seer-preflight-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "data");
    model::init_model("tiny", (root_ / "model").string(), 1, true);
    dataset::Image image(16, 16, 1, 200);
    for (int i = 0; i < 3; ++i) dataset::write_png((root_ / "data" / ("d" + std::to_string(i) + ".png")).string(), image);
    write_rows({R"({"image": "d0.png", "problem": "Which digit is this?", "solution": "3"})",
                R"({"image": "d1.png", "problem": "Which digit is this?", "solution": "7"})",
                R"({"image": "d2.png", "problem": "Which digit is this?", "solution": "1"})"});
    cfg_.model.path = (root_ / "model").string();
    cfg_.data.train = (root_ / "data" / "train.jsonl").string();
    cfg_.run_dir = (root_ / "run").string();
    cfg_.algorithm.name = "grpo";
    options_.progress = false;
  }
  void TearDown() override { fs::remove_all(root_); }

  void write_rows(const std::vector<std::string>& rows, const std::string& name = "train.jsonl") {
    std::ofstream out(root_ / "data" / name);
    for (const auto& r : rows) out << r << "\n";
  }
  Findings run() { return preflight(cfg_, options_); }

  /// The findings of `severity` whose subject contains `subject` and whose message contains `message`.
  static int matching(const Findings& f, Severity severity, const std::string& subject, const std::string& message) {
    int n = 0;
    for (const auto& x : f.items) {
      if (x.severity == severity && x.subject.find(subject) != std::string::npos &&
          x.message.find(message) != std::string::npos) {
        ++n;
      }
    }
    return n;
  }
  static std::string all(const Findings& f) {
    std::string s;
    for (const auto& x : f.items) s += x.line() + "\n";
    return s;
  }

  fs::path root_;
  ExperimentConfig cfg_;
  PreflightOptions options_;
};

TEST_F(Preflight, PassesOnAGoodRun) {
  const Findings f = run();
  EXPECT_TRUE(f.ok()) << all(f);
  EXPECT_EQ(f.count(Severity::kWarning), 0) << all(f);
}

TEST_F(Preflight, MissingModelFolderIsNamed) {
  cfg_.model.path = (root_ / "no-such-model").string();
  const Findings f = run();
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(matching(f, Severity::kError, "model.path", cfg_.model.path + "' does not exist"), 1) << all(f);
}

TEST_F(Preflight, WrongTensorShapeInTheHeaderIsNamed) {
  const std::string file = (root_ / "model" / "model.safetensors").string();
  std::map<std::string, at::Tensor> tensors;
  {
    model::SafetensorsFile in(file);
    for (const auto& [name, entry] : in.entries()) tensors[name] = in.tensor(name);
  }
  const std::string name = "multi_modal_projector.linear_1.weight";
  ASSERT_TRUE(tensors.count(name));
  tensors[name] = tensors[name].t().contiguous();  // (in, out) instead of (out, in)
  model::write_safetensors(file, tensors);
  const Findings f = run();
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(matching(f, Severity::kError, "model", "tensor '" + name + "' has shape"), 1) << all(f);
}

TEST_F(Preflight, MissingTensorIsNamed) {
  const std::string file = (root_ / "model" / "model.safetensors").string();
  std::map<std::string, at::Tensor> tensors;
  {
    model::SafetensorsFile in(file);
    for (const auto& [name, entry] : in.entries()) tensors[name] = in.tensor(name);
  }
  ASSERT_EQ(tensors.erase("language_model.model.norm.weight"), 1u);
  model::write_safetensors(file, tensors);
  const Findings f = run();
  EXPECT_EQ(matching(f, Severity::kError, "model", "language_model.model.norm.weight"), 1) << all(f);
}

TEST_F(Preflight, MissingTokenizerIsNamed) {
  fs::remove(root_ / "model" / "tokenizer.json");
  const Findings f = run();
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(matching(f, Severity::kError, "tokenizer.json", "missing"), 1) << all(f);
}

TEST_F(Preflight, MissingAndCorruptImagesAreNamedByRow) {
  fs::remove(root_ / "data" / "d1.png");
  std::ofstream(root_ / "data" / "d2.png") << "not a png";
  const Findings f = run();
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(matching(f, Severity::kError, "train.jsonl:2", "d1.png' does not exist"), 1) << all(f);
  EXPECT_EQ(matching(f, Severity::kError, "train.jsonl:3", "d2.png"), 1) << all(f);
  EXPECT_EQ(matching(f, Severity::kError, "train.jsonl:1", ""), 0) << all(f);
}

TEST_F(Preflight, MorePlaceholdersThanImagesAreNamedByRow) {
  write_rows({R"({"image": "d0.png", "problem": "<image> and <image>: which digit?", "solution": "3"})",
              R"({"image": "d1.png", "problem": "Which digit is this?", "solution": "7"})"});
  const Findings f = run();
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(matching(f, Severity::kError, "train.jsonl:1", "image"), 1) << all(f);
  EXPECT_EQ(matching(f, Severity::kError, "train.jsonl:2", ""), 0) << all(f);
}

TEST_F(Preflight, OverLongPromptIsNamedWithTheLimit) {
  cfg_.data.max_prompt_tokens = 10;
  const Findings f = run();
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(matching(f, Severity::kError, "train.jsonl:1", "data.max_prompt_tokens = 10"), 1) << all(f);
}

TEST_F(Preflight, UnparseableGoldIsCountedAndNamed) {
  std::vector<std::string> rows;
  for (int i = 0; i < 9; ++i) rows.push_back(R"({"image": "d0.png", "problem": "Simplify.", "solution": "\\frac{1}{2}", "answer_type": "math"})");
  rows.push_back(R"({"image": "d0.png", "problem": "Simplify.", "solution": "\\frac{1}{", "answer_type": "math"})");
  write_rows(rows);
  Findings f = run();
  EXPECT_TRUE(f.ok()) << all(f);  // one in ten: a warning, the run may start
  EXPECT_EQ(matching(f, Severity::kWarning, "train.jsonl", "1 of 10 math gold answers would score GOLD_UNPARSEABLE"), 1)
      << all(f);
  EXPECT_EQ(matching(f, Severity::kWarning, "", "train.jsonl:10"), 1) << all(f);
  write_rows({rows.back()});  // none parses: nothing to learn from
  f = run();
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(matching(f, Severity::kError, "train.jsonl", "GOLD_UNPARSEABLE"), 1) << all(f);
}

TEST_F(Preflight, RowsOfTheWrongKindForTheAlgorithmAreNamed) {
  cfg_.algorithm.name = "sft";
  const Findings f = run();
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(matching(f, Severity::kError, "train.jsonl:1", "not a conversation row"), 1) << all(f);
}

TEST_F(Preflight, UnwritableRunFolderIsNamed) {
  std::ofstream(root_ / "a-file") << "x";
  cfg_.run_dir = (root_ / "a-file" / "run").string();
  const Findings f = run();
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(matching(f, Severity::kError, "run_dir", "a-file"), 1) << all(f);
}

TEST_F(Preflight, NoMpirunOnPathIsNamedWhenSeveralRanksAreConfigured) {
  cfg_.cluster.learner_ranks = 2;
  const std::string saved = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  ::setenv("PATH", (root_ / "empty-bin").c_str(), 1);
  const Findings f = run();
  options_.learner_only = true;  // inside a launched learner the launcher has done its work
  const Findings inside = run();
  ::setenv("PATH", saved.c_str(), 1);
  EXPECT_EQ(matching(f, Severity::kError, "cluster.mpirun", "'mpirun' is not on PATH"), 1) << all(f);
  EXPECT_TRUE(inside.ok()) << all(inside);
}

TEST_F(Preflight, AddressInUseIsNamed) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(s, 1), 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  cfg_.cluster.coordinator_port = ntohs(a.sin_port);
  const Findings f = run();
  ::close(s);
  EXPECT_EQ(matching(f, Severity::kError, "cluster.bind_address", std::to_string(cfg_.cluster.coordinator_port)), 1)
      << all(f);
}

}  // namespace
}  // namespace seer::app
