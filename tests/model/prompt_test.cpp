// Prompt building on the tiny preset's byte-level tokenizer: template, placeholder expansion (one or several
// images, each with its own count), prefill, length limit that skips rather than truncates.
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
    spec_.image_tokens = {16};
    spec_.assistant_prefill = "<think>\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::unique_ptr<Tokenizer> tok_;
  PromptSpec spec_;
};

TEST_F(PromptTest, ImagePlaceholderExpandedAndPrefillAtTheEnd) {
  spec_.system_prompt = "Think, then answer.";
  const auto p = build_prompt(*tok_, spec_, question_parts("What is the sum?", 1, "", "row 1"), "row 1");
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
    build_prompt(*tok_, spec_, question_parts(std::string(200, 'x'), 1, "", "train.jsonl:7"), "train.jsonl:7");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.jsonl:7: prompt is"), std::string::npos) << e.what();
  }
}

TEST_F(PromptTest, ImageTokenInsideTheQuestionTextIsAnError) {
  // An image item plus the placeholder's text inside a text item: two placeholders for one image.
  const std::vector<ChatPart> user = {{ChatPart::kImage, ""}, {ChatPart::kText, "look <image> here"}};
  EXPECT_THROW(build_prompt(*tok_, spec_, user, "row 2"), Error);
}

TEST_F(PromptTest, QuestionTagsPlaceTheImagesOrTheyComeFirst) {
  const auto tagged = question_parts("left <image> right <image>?", 2, "\n", "r");
  ASSERT_EQ(tagged.size(), 5u);
  EXPECT_EQ(tagged[0].text, "left ");
  EXPECT_EQ(tagged[1].kind, ChatPart::kImage);
  EXPECT_EQ(tagged[2].text, " right ");
  EXPECT_EQ(tagged[3].kind, ChatPart::kImage);
  EXPECT_EQ(tagged[4].text, "?");
  const auto untagged = question_parts("How many?", 2, "\n", "r");
  ASSERT_EQ(untagged.size(), 3u);
  EXPECT_EQ(untagged[0].kind, ChatPart::kImage);
  EXPECT_EQ(untagged[1].kind, ChatPart::kImage);
  EXPECT_EQ(untagged[2].text, "\nHow many?");
  EXPECT_EQ(question_parts("How many?", 0, "\n", "r")[0].text, "How many?");  // no separator without images
  try {
    question_parts("a <image> b <image>", 1, "", "train.jsonl:9");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.jsonl:9: the question holds 2 '<image>' tag(s) for 1 image(s)"),
              std::string::npos) << e.what();
  }
}

TEST_F(PromptTest, EachImageExpandsToItsOwnCountInOrder) {
  spec_.image_tokens = {3, 5};
  const auto p = build_prompt(*tok_, spec_, question_parts("A <image> then B <image>", 2, "", "r"), "r");
  // Runs of placeholders, in order of appearance: 3 then 5, separated by text.
  std::vector<int> runs;
  for (size_t i = 0; i < p.ids.size(); ++i) {
    if (p.ids[i] != spec_.image_token_id) continue;
    if (i == 0 || p.ids[i - 1] != spec_.image_token_id) runs.push_back(0);
    ++runs.back();
  }
  EXPECT_EQ(runs, (std::vector<int>{3, 5}));
  // More placeholders than image counts.
  EXPECT_THROW(expand_image_placeholders({1, spec_.image_token_id, 2, spec_.image_token_id}, spec_.image_token_id, {4}),
               Error);
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
