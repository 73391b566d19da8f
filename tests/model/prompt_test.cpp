// Prompt building on the tiny preset's byte-level tokenizer: template, placeholder expansion, prefill,
// length limit that skips rather than truncates.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "core/check.h"
#include "model/presets.h"
#include "model/prompt.h"
#include "model/sft_example.h"

namespace seer::model {
namespace {

class PromptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("seer_prompt_" + std::to_string(::getpid()));
    init_model("tiny", dir_.string(), 1, true);
    tok_ = std::make_unique<Tokenizer>(Tokenizer::from_file((dir_ / "tokenizer.json").string()));
    spec_.family = ChatFamily::kChatml;
    spec_.image_token_id = tok_->token_to_id("<image>");
    spec_.image_features = 16;
    spec_.assistant_prefill = "<think>\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::unique_ptr<Tokenizer> tok_;
  PromptSpec spec_;
};

TEST_F(PromptTest, ImagePlaceholderExpandedAndPrefillAtTheEnd) {
  spec_.system_prompt = "Think, then answer.";
  const auto p = build_prompt(*tok_, spec_, "What is the sum?", true, "row 1");
  EXPECT_EQ(p.text,
            "<|im_start|>system\nThink, then answer.<|im_end|>\n<|im_start|>user\n<image>What is the sum?<|im_end|>\n"
            "<|im_start|>assistant\n<think>\n");
  int images = 0, first = -1, last = -1;
  for (size_t i = 0; i < p.ids.size(); ++i) {
    if (p.ids[i] == spec_.image_token_id) {
      ++images;
      if (first < 0) first = static_cast<int>(i);
      last = static_cast<int>(i);
    }
  }
  EXPECT_EQ(images, 16);
  EXPECT_EQ(last - first + 1, 16);  // one contiguous span
  const int32_t think = tok_->token_to_id("<think>");
  EXPECT_EQ(p.ids[p.ids.size() - 2], think);  // "<think>" then "\n"
  EXPECT_EQ(p.prefill, "<think>\n");
}

TEST_F(PromptTest, OverLongPromptIsRefusedNamingTheSample) {
  spec_.max_prompt_tokens = 40;
  try {
    build_prompt(*tok_, spec_, std::string(200, 'x'), true, "train.jsonl:7");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.jsonl:7: prompt is"), std::string::npos) << e.what();
  }
}

TEST_F(PromptTest, ImageTokenInsideTheQuestionIsAnError) {
  EXPECT_THROW(build_prompt(*tok_, spec_, "look <image> here", true, "row 2"), Error);
}

TEST_F(PromptTest, SftTargetsAreTheAssistantTurnsOnly) {
  const std::vector<ChatMessage> conv = {
      {"user", {{ChatPart::kImage, ""}, {ChatPart::kText, "Which digit?"}}, {}, {}},
      {"assistant", {{ChatPart::kText, "<think>round</think><answer>0</answer>"}}, {}, {}},
      {"user", {{ChatPart::kText, "Sure?"}}, {}, {}},
      {"assistant", {{ChatPart::kText, "yes"}}, {}, {}}};
  const SftExample ex = build_sft_example(*tok_, spec_, conv, "row 3");
  ASSERT_EQ(ex.ids.size(), ex.target.size());
  // Decode the trained tokens: exactly the two assistant answers with their end-of-turn text.
  std::vector<int32_t> trained;
  for (size_t i = 0; i < ex.ids.size(); ++i) {
    if (ex.target[i]) trained.push_back(ex.ids[i]);
  }
  EXPECT_EQ(tok_->decode(trained), "<think>round</think><answer>0</answer><|im_end|>\nyes<|im_end|>\n");
  int images = 0;
  for (int32_t id : ex.ids) images += id == spec_.image_token_id;
  EXPECT_EQ(images, 16);
  EXPECT_THROW(build_sft_example(*tok_, spec_, {conv[0]}, "row 4"), Error);  // nothing to train on
}

}  // namespace
}  // namespace seer::model
