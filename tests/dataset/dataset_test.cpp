// Dataset rows in both formats, every bad-row kind, image-root escapes, and `data check`.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/check.h"
#include "dataset/check.h"
#include "dataset/jsonl_reader.h"
#include "dataset/task_writer.h"

namespace seer::dataset {
namespace {

namespace fs = std::filesystem;

class DatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("seer_ds_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "data" / "img");
    Image img(4, 4, 3, 128);
    write_png((root_ / "data" / "img" / "a.png").string(), img);
    std::ofstream(root_ / "data" / "img" / "broken.png") << "not an image";
    std::ofstream(root_ / "secret.png") << "outside";
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string write(const std::string& text) {
    const std::string path = (root_ / "data" / "rows.jsonl").string();
    std::ofstream(path) << text;
    return path;
  }
  fs::path root_;
};

TEST_F(DatasetTest, ReadsBothFormats) {
  const std::string path = write(
      R"({"id": "r1", "image": "img/a.png", "problem": "How many?", "solution": "<answer> 3 </answer>"})" "\n"
      R"({"image": "img/a.png", "problem": "Which?", "answer": "B", "answer_type": "choice", "options": ["A", "B"]})" "\n"
      "\n"
      R"({"id": 7, "image": "img/a.png", "conversations": [{"from": "human", "value": "<image>\nWhat is it?"}, {"from": "gpt", "value": "<think>t</think><answer>cat</answer>"}]})" "\n"
      R"({"problem": "1+1?", "solution": 2})" "\n"
      R"({"id": "", "problem": "2+2?", "solution": 4})" "\n");  // an empty id names nothing: FILE:LINE instead
  const Dataset d = read_jsonl(path, {});
  ASSERT_EQ(d.rows.size(), 5u);
  EXPECT_EQ(d.rows[4].id, path + ":6");
  EXPECT_EQ(d.rows[0].id, "r1");
  EXPECT_EQ(d.rows[0].answer, "<answer> 3 </answer>");
  EXPECT_EQ(d.rows[0].images, std::vector<std::string>{fs::weakly_canonical(root_ / "data" / "img" / "a.png").string()});
  EXPECT_EQ(d.rows[1].answer, "B");  // "answer" when the row has no "solution"
  EXPECT_EQ(d.rows[1].options, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(d.rows[2].id, "7");
  EXPECT_EQ(d.rows[2].line, 4);
  ASSERT_EQ(d.rows[2].conversation.size(), 2u);
  EXPECT_EQ(d.rows[2].conversation[0].role, "user");
  EXPECT_EQ(d.rows[2].conversation[1].role, "assistant");
  EXPECT_EQ(d.rows[3].answer, "2");
  EXPECT_TRUE(d.rows[3].images.empty());
}

TEST_F(DatasetTest, EveryBadRowKindNamesFileAndLine) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{not json", "not valid JSON"},
      {"[1, 2]", "must be a JSON object"},
      {R"({"solution": "3"})", "missing string field 'problem'"},
      {R"({"problem": "q"})", "missing field 'solution'"},
      {R"({"problem": "q", "solution": {"x": 1}})", "must be a string or a number"},
      {R"({"problem": "q", "solution": "3", "answer_type": "fuzzy"})", "unknown answer_type 'fuzzy'"},
      {R"({"problem": "q", "solution": "3", "options": "ABC"})", "'options' must be a list"},
      {R"({"problem": "q", "solution": "3", "image": 5})", "must be a path string"},
      {R"({"problem": "q", "solution": "3", "id": [1]})", "'id' must be a string or an integer"},
      {R"({"image": "img/a.png", "conversations": []})", "non-empty list"},
      {R"({"image": "img/a.png", "conversations": [{"from": "human"}]})", "needs string fields"},
      {R"({"image": "img/a.png", "conversations": [{"from": "robot", "value": "<image>"}]})", "unknown speaker 'robot'"},
      {R"({"image": "img/a.png", "conversations": [{"from": "human", "value": "<image> hi"}]})", "must end with a gpt turn"},
      {R"({"image": "img/a.png", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "x"}]})",
       "holds 0 '<image>' tag(s) for the row's 1 image(s)"},
      {R"({"conversations": [{"from": "human", "value": "<image> hi"}, {"from": "gpt", "value": "x"}]})",
       "holds 1 '<image>' tag(s) for the row's 0 image(s)"},
      {R"({"image": ["img/a.png", "img/a.png"], "conversations": [{"from": "human", "value": "<image> hi"}, {"from": "gpt", "value": "x"}]})",
       "holds 1 '<image>' tag(s) for the row's 2 image(s)"},
      {R"({"image": "img/a.png", "problem": "<image> and <image>?", "solution": "3"})",
       "'problem' holds 2 '<image>' tag(s) for the row's 1 image(s)"},
      {R"({"image": ["img/a.png", 3], "problem": "q", "solution": "3"})", "'image[1]' must be a path string"},
      {R"({"image": ["img/a.png", "../secret.png"], "problem": "q", "solution": "3"})", "'image[1]': "},
      {R"({"image": "../secret.png", "problem": "q", "solution": "3"})", "outside the image root"},
      {R"({"image": "/etc/passwd", "problem": "q", "solution": "3"})", "outside the image root"},
      {R"({"image": "", "problem": "q", "solution": "3"})", "empty image path"},
  };
  std::string text;
  for (const auto& [row, why] : bad) text += row + "\n";
  const std::string path = write(text);
  const Dataset all = read_jsonl_all(path, {});
  EXPECT_TRUE(all.rows.empty());
  ASSERT_EQ(all.bad.size(), bad.size());
  for (size_t i = 0; i < bad.size(); ++i) {
    const std::string prefix = path + ":" + std::to_string(i + 1) + ": ";
    EXPECT_EQ(all.bad[i].message.rfind(prefix, 0), 0u) << all.bad[i].message;
    EXPECT_NE(all.bad[i].message.find(bad[i].second), std::string::npos) << all.bad[i].message;
  }
  // fail mode stops with the first; skip mode counts them.
  try {
    read_jsonl(path, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":1: not valid JSON"), std::string::npos) << e.what();
  }
  ReadOptions skip;
  skip.skip_bad_rows = true;
  const Dataset skipped = read_jsonl(path, skip);
  EXPECT_EQ(skipped.bad.size(), bad.size());
  // The log line names the first rows with their reasons.
  const std::string summary = skipped_rows_summary(skipped, 2);
  EXPECT_EQ(summary.rfind(path + ": skipped " + std::to_string(bad.size()) + " bad row(s)", 0), 0u) << summary;
  EXPECT_NE(summary.find(path + ":2: a row must be a JSON object"), std::string::npos) << summary;
  EXPECT_EQ(summary.find(path + ":3:"), std::string::npos) << summary;
  EXPECT_EQ(summary.substr(summary.size() - 5), "; ...");
  EXPECT_EQ(skipped_rows_summary(read_jsonl_all(write("{\"problem\": \"q\", \"solution\": 1}\n"), {})), "");
}

TEST_F(DatasetTest, SymlinkOutOfTheRootIsRefused) {
  fs::create_symlink(root_ / "secret.png", root_ / "data" / "img" / "link.png");
  fs::create_directory_symlink(root_, root_ / "data" / "up");
  const std::string path = write(R"({"image": "img/link.png", "problem": "q", "solution": "3"})" "\n"
                                 R"({"image": "up/secret.png", "problem": "q", "solution": "3"})" "\n");
  const Dataset d = read_jsonl_all(path, {});
  ASSERT_EQ(d.bad.size(), 2u);
  for (const auto& b : d.bad) EXPECT_NE(b.message.find("outside the image root"), std::string::npos) << b.message;
}

TEST_F(DatasetTest, ConfiguredFieldsAndImageRoot) {
  const std::string path = write(R"({"img": "a.png", "q": "How many?", "gold": "4"})" "\n");
  ReadOptions o;
  o.image_field = "img";
  o.question_field = "q";
  o.answer_field = "gold";
  o.image_root = (root_ / "data" / "img").string();
  const Dataset d = read_jsonl(path, o);
  ASSERT_EQ(d.rows.size(), 1u);
  EXPECT_EQ(d.rows[0].question, "How many?");
  ASSERT_EQ(d.rows[0].images.size(), 1u);
  EXPECT_EQ(fs::path(d.rows[0].images[0]).filename(), "a.png");
}

TEST_F(DatasetTest, SeveralImagesPerRowInOrder) {
  write_png((root_ / "data" / "img" / "b.png").string(), Image(8, 4, 3, 10));
  const std::string path = write(
      R"({"image": ["img/b.png", "img/a.png"], "problem": "Left <image>, right <image>: same count?", "solution": "no"})" "\n"
      R"({"image": ["img/a.png", "img/b.png"], "problem": "How many in all?", "solution": "5"})" "\n"
      R"({"image": ["img/a.png", "img/b.png"], "conversations": [{"from": "human", "value": "<image> and <image>?"}, {"from": "gpt", "value": "x"}]})" "\n"
      R"({"image": [], "problem": "1+1?", "solution": "2"})" "\n");
  const Dataset d = read_jsonl(path, {});
  ASSERT_EQ(d.rows.size(), 4u);
  auto names = [](const Row& r) {
    std::vector<std::string> out;
    for (const auto& p : r.images) out.push_back(fs::path(p).filename().string());
    return out;
  };
  EXPECT_EQ(names(d.rows[0]), (std::vector<std::string>{"b.png", "a.png"}));
  EXPECT_EQ(names(d.rows[1]), (std::vector<std::string>{"a.png", "b.png"}));  // untagged: both before the question
  EXPECT_EQ(names(d.rows[2]), (std::vector<std::string>{"a.png", "b.png"}));
  EXPECT_TRUE(d.rows[3].images.empty());
  const CheckReport r = check_dataset(path, {});
  EXPECT_TRUE(r.ok()) << (r.problems.empty() ? "" : r.problems[0]);
  EXPECT_EQ(r.images, 6);
}

TEST_F(DatasetTest, CheckReportsEveryBadRowAndCounts) {
  const std::string path = write(
      R"({"image": "img/a.png", "problem": "q", "solution": "3"})" "\n"
      R"({"image": "img/missing.png", "problem": "q", "solution": "3"})" "\n"
      R"({"image": "img/broken.png", "problem": "q", "solution": "3"})" "\n"
      R"({"image": "img/a.png", "problem": "q", "solution": "abc", "answer_type": "numeric"})" "\n"
      R"({"image": "img/a.png", "problem": "q", "solution": "", "answer_type": "auto"})" "\n"
      R"({"problem": "q", "solution": "B", "answer_type": "choice"})" "\n"
      "{oops\n"
      R"({"image": "img/a.png", "conversations": [{"from": "human", "value": "<image>"}, {"from": "gpt", "value": "x"}]})" "\n");
  const CheckReport r = check_dataset(path, {});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.rows, 3);
  EXPECT_EQ(r.rl_rows, 2);
  EXPECT_EQ(r.sft_rows, 1);
  EXPECT_EQ(r.images, 2);
  EXPECT_EQ(r.answer_types.at("numeric"), 1);
  EXPECT_EQ(r.answer_types.at("choice"), 1);
  ASSERT_EQ(r.problems.size(), 5u);
  EXPECT_NE(r.problems[0].find(":2: image"), std::string::npos);
  EXPECT_NE(r.problems[0].find("missing.png: cannot read image"), std::string::npos) << r.problems[0];
  EXPECT_NE(r.problems[1].find(":3: image"), std::string::npos);
  EXPECT_NE(r.problems[1].find("broken.png: cannot decode"), std::string::npos) << r.problems[1];
  EXPECT_NE(r.problems[2].find(":4: gold 'abc' does not parse as numeric"), std::string::npos) << r.problems[2];
  EXPECT_NE(r.problems[3].find(":5: the gold answer is empty"), std::string::npos) << r.problems[3];
  EXPECT_NE(r.problems[4].find(":7: not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace seer::dataset
