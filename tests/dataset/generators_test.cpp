// Task generators: digits splits against the source file, determinism (same seed -> same bytes),
// Fashion-MNIST from IDX files (a small synthetic one here), counting scenes, and `data check` passing.
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "dataset/check.h"
#include "dataset/generators.h"

namespace seer::dataset {
namespace {

namespace fs = std::filesystem;

std::vector<nlohmann::json> rows_of(const fs::path& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

/// Labels of the source file, read independently of the generator (last CSV field of each line).
std::vector<int> source_labels(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  EXPECT_NE(f, nullptr) << path;
  std::vector<int> labels;
  char buf[4096];
  while (f != nullptr && gzgets(f, buf, sizeof(buf)) != nullptr) {
    std::string line(buf);
    if (line.find(',') == std::string::npos) continue;
    labels.push_back(std::stoi(line.substr(line.rfind(',') + 1)));
  }
  if (f != nullptr) gzclose(f);
  return labels;
}

std::map<std::string, std::string> all_files(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = read_file(e.path().string());
  }
  return out;
}

class Generators : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seer_gen_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(Generators, DigitsSplitsMatchTheSourceFile) {
  const std::string source = default_source("digits-classify");
  const std::vector<int> labels = source_labels(source);
  ASSERT_EQ(labels.size(), 1797u) << "the UCI digits file (scripts/install-deps.sh extracts it)";
  GenerateOptions o;
  o.out_dir = (dir_ / "classify").string();
  o.seed = 3;
  generate_task("digits-classify", o);
  const auto train = rows_of(dir_ / "classify" / "train.jsonl"), test = rows_of(dir_ / "classify" / "test.jsonl");
  EXPECT_EQ(train.size() + test.size(), labels.size());
  EXPECT_EQ(test.size(), static_cast<size_t>(1797 * 0.2));
  std::map<int, int> histogram, expected;
  for (int l : labels) ++expected[l];
  std::set<int> train_lines, test_lines;
  for (const auto* split : {&train, &test}) {
    for (const auto& row : *split) {
      const std::string src = row["source"];
      const int line = std::stoi(src.substr(src.rfind(':') + 1));
      EXPECT_EQ(row["solution"].get<std::string>(), std::to_string(labels[static_cast<size_t>(line - 1)])) << src;
      ++histogram[std::stoi(row["solution"].get<std::string>())];
      (split == &train ? train_lines : test_lines).insert(line);
    }
  }
  EXPECT_EQ(histogram, expected);
  for (int line : test_lines) EXPECT_EQ(train_lines.count(line), 0u) << "source line " << line << " in both splits";
  // The first train row is the lowest source line in the train split, with its label.
  EXPECT_EQ(train.front()["source"].get<std::string>(), "digits.csv.gz:" + std::to_string(*train_lines.begin()));
  EXPECT_TRUE(check_dataset((dir_ / "classify" / "train.jsonl").string(), {}).ok());
  EXPECT_TRUE(check_dataset((dir_ / "classify" / "sft_test.jsonl").string(), {}).ok());
  // The out-of-distribution split: the test split's source images and labels, row for row, in a new layout.
  const auto ood = rows_of(dir_ / "classify" / "test_ood.jsonl");
  ASSERT_EQ(ood.size(), test.size());
  for (size_t i = 0; i < ood.size(); ++i) {
    EXPECT_EQ(ood[i]["source"], test[i]["source"]);
    EXPECT_EQ(ood[i]["solution"], test[i]["solution"]);
    EXPECT_NE(ood[i]["image"], test[i]["image"]);
  }
  EXPECT_TRUE(check_dataset((dir_ / "classify" / "test_ood.jsonl").string(), {}).ok());
}

TEST_F(Generators, SameSeedSameBytesOtherSeedOtherData) {
  GenerateOptions o;
  o.train = 30;
  o.test = 10;
  o.seed = 5;
  for (const char* task : {"digits-sum", "digits-count", "shapes-count"}) {
    o.out_dir = (dir_ / task / "a").string();
    generate_task(task, o);
    o.out_dir = (dir_ / task / "b").string();
    generate_task(task, o);
    o.seed = 6;
    o.out_dir = (dir_ / task / "c").string();
    generate_task(task, o);
    o.seed = 5;
    const auto a = all_files(dir_ / task / "a"), b = all_files(dir_ / task / "b"), c = all_files(dir_ / task / "c");
    EXPECT_EQ(a.size(), 30u + 10u + 4u) << task;  // images + train/test + sft_train/sft_test
    EXPECT_TRUE(a == b) << task << ": same seed must give byte-identical files";
    EXPECT_FALSE(a.at("train.jsonl") == c.at("train.jsonl")) << task;
    for (const char* f : {"train.jsonl", "test.jsonl", "sft_train.jsonl", "sft_test.jsonl"}) {
      const CheckReport r = check_dataset((dir_ / task / "a" / f).string(), {});
      EXPECT_TRUE(r.ok()) << task << "/" << f << ": " << (r.problems.empty() ? "" : r.problems.front());
    }
  }
}

TEST_F(Generators, DigitsSumAndCountAnswersAreRight) {
  GenerateOptions o;
  o.train = 50;
  o.test = 5;
  o.out_dir = (dir_ / "sum").string();
  generate_task("digits-sum", o);
  for (const auto& row : rows_of(dir_ / "sum" / "sft_train.jsonl")) {
    // "The left digit is A and the right digit is B. A + B = S." and S is the answer.
    const std::string text = row["conversations"][1]["value"];
    const int a = text[text.find("left digit is ") + 14] - '0', b = text[text.find("right digit is ") + 15] - '0';
    EXPECT_NE(text.find("<answer>" + std::to_string(a + b) + "</answer>"), std::string::npos) << text;
  }
  o.out_dir = (dir_ / "count").string();
  generate_task("digits-count", o);
  for (const auto& row : rows_of(dir_ / "count" / "train.jsonl")) {
    const int n = std::stoi(row["solution"].get<std::string>());
    EXPECT_GE(n, 0);
    EXPECT_LE(n, 4);
  }
}

TEST_F(Generators, ShapesTestSplitHasMoreObjects) {
  GenerateOptions o;
  o.train = 40;
  o.test = 40;
  o.out_dir = (dir_ / "shapes").string();
  generate_task("shapes-count", o);
  for (const char* split : {"train", "test"}) {
    for (const auto& row : rows_of(dir_ / "shapes" / (std::string(split) + ".jsonl"))) {
      if (row["problem"] != "How many objects are there?") continue;
      const int n = std::stoi(row["solution"].get<std::string>());
      if (std::string(split) == "train") EXPECT_LE(n, 5);
      else EXPECT_GE(n, 6);
    }
  }
}

void write_gz(const fs::path& path, const std::string& bytes) {
  gzFile f = gzopen(path.string().c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

TEST_F(Generators, FashionFromIdxFiles) {
  const fs::path src = dir_ / "fashion-src";
  fs::create_directories(src);
  for (const auto& [prefix, n] : {std::make_pair(std::string("train"), 12u), std::make_pair(std::string("t10k"), 6u)}) {
    std::string images = be32(0x803) + be32(n) + be32(28) + be32(28), labels = be32(0x801) + be32(n);
    for (uint32_t i = 0; i < n; ++i) {
      images += std::string(784, static_cast<char>(i * 20));
      labels += static_cast<char>(i % 10);
    }
    write_gz(src / (prefix + "-images-idx3-ubyte.gz"), images);
    write_gz(src / (prefix + "-labels-idx1-ubyte.gz"), labels);
  }
  GenerateOptions o;
  o.source = src.string();
  o.out_dir = (dir_ / "fashion").string();
  generate_task("fashion-classify", o);
  const auto train = rows_of(dir_ / "fashion" / "train.jsonl");
  EXPECT_EQ(train.size(), 12u);  // all of them (fewer than the default)
  std::set<std::string> answers;
  for (const auto& r : train) answers.insert(r["solution"].get<std::string>());
  EXPECT_EQ(answers.size(), 10u);
  EXPECT_TRUE(answers.count("boot"));
  EXPECT_TRUE(check_dataset((dir_ / "fashion" / "test.jsonl").string(), {}).ok());
  // A corrupt source names the file.
  std::ofstream(src / "t10k-labels-idx1-ubyte.gz") << "garbage";
  try {
    generate_task("fashion-classify", o);
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("t10k-labels-idx1-ubyte.gz"), std::string::npos) << e.what();
  }
}

TEST_F(Generators, UnknownTaskSuggests) {
  GenerateOptions o;
  o.out_dir = dir_.string();
  try {
    generate_task("digit-sum", o);
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'digits-sum'?"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace seer::dataset
