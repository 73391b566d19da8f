// The answer extractor and the format reward: contract sections 1 and 3, with variants of each
// field-report class (B02 boxes, B03 last box, B04 missing blocks, B07 wrappers, B15 newlines, B16 repeats).
#include <string>

#include <gtest/gtest.h>

#include "reward/extract.h"
#include "reward/format.h"

namespace seer::reward {
namespace {

std::string answer_of(const std::string& text) { return extract_answer(text).text; }

TEST(Extract, LastClosedBlockOnly) {
  EXPECT_EQ(answer_of("<answer>1</answer> x <answer>2</answer>"), "2");
  EXPECT_EQ(answer_of("<answer>1</answer> <answer>2"), "1");  // the unclosed one is not final
  EXPECT_EQ(extract_answer("The answer is 42").kind, Extracted::kNone);  // never search the whole text
  EXPECT_EQ(extract_answer("\\boxed{42}").kind, Extracted::kNone);
  EXPECT_EQ(extract_answer("<answer></answer>").kind, Extracted::kNone);
  EXPECT_EQ(extract_answer("<answer> \n\t </answer>").kind, Extracted::kNone);
  EXPECT_EQ(extract_answer("</answer><answer>").kind, Extracted::kNone);
}

TEST(Extract, LastBalancedBox) {
  EXPECT_EQ(answer_of("<answer>\\boxed{\\frac{1}{2}}</answer>"), "\\frac{1}{2}");
  EXPECT_EQ(answer_of("<answer>\\boxed{5} no, \\boxed{7}</answer>"), "7");
  EXPECT_EQ(answer_of("<answer>\\fbox{3} then \\boxed{4}</answer>"), "4");
  EXPECT_EQ(answer_of("<answer>\\boxed{4} then \\fbox{3}</answer>"), "3");
  EXPECT_EQ(answer_of("<answer>\\boxed   {x^{2}}</answer>"), "x^{2}");
  EXPECT_EQ(answer_of("<answer>\\boxed{\\{1, 2\\}}</answer>"), "\\{1, 2\\}");  // escaped set braces
  EXPECT_EQ(answer_of("<answer>\\boxed{\\text{(B)}}</answer>"), "(B)");
  EXPECT_EQ(extract_answer("<answer>\\boxed{}</answer>").kind, Extracted::kNone);
}

TEST(Extract, UnbalancedOrBracelessBoxIsMalformed) {
  EXPECT_EQ(extract_answer("<answer>\\boxed{\\frac{1}{2}</answer>").kind, Extracted::kMalformed);
  EXPECT_EQ(extract_answer("<answer>\\boxed42</answer>").kind, Extracted::kMalformed);
  EXPECT_EQ(extract_answer("<answer>\\fbox{{{{</answer>").kind, Extracted::kMalformed);
}

TEST(Extract, StripsWrappersInAnyNesting) {
  for (const char* wrapped : {"$73$", "$$73$$", "\\(73\\)", "\\[73\\]", "**73**", "\\textbf{73}", "\\text{73}",
                              "73.", " 73 ", "**$73$**", "$\\textbf{73}$", "\\text{\\textbf{ 73 }}", "\n73\n"}) {
    EXPECT_EQ(normalize_answer(wrapped).text, "73") << wrapped;
  }
  EXPECT_EQ(normalize_answer("\\$5").text, "\\$5");       // an escaped dollar is a unit, not a delimiter
  EXPECT_EQ(normalize_answer("$5\\$$").text, "5\\$");
  EXPECT_EQ(normalize_answer("\\text{a} and \\text{b}").text, "\\text{a} and \\text{b}");  // not one wrapper
  EXPECT_EQ(normalize_answer("1, 2, ...").text, "1, 2, ...");  // an ellipsis is not a trailing period
}

TEST(Extract, NfkcAndIdempotence) {
  EXPECT_EQ(normalize_answer("２").text, "2");
  EXPECT_EQ(normalize_answer("（Ｂ）").text, "(B)");
  for (const char* a : {"$\\frac{1}{2}$.", "**B**", "\\boxed{\\text{yes}}", "２３", "x = 5", "$$$7$$$"}) {
    const std::string once = normalize_answer(a).text;
    EXPECT_EQ(normalize_answer(once).text, once) << a;
  }
}

TEST(Extract, GoldIsNormalisedTheSameWay) {
  EXPECT_EQ(normalize_gold("<answer> 42 </answer>").text, "42");
  EXPECT_EQ(normalize_gold("\\boxed{5}").text, "5");
  EXPECT_EQ(normalize_gold("$28\\%$").text, "28\\%");
  EXPECT_EQ(normalize_gold("").kind, Extracted::kNone);
}

TEST(Extract, StopStringCut) {
  EXPECT_EQ(cut_at_stop("a<|im_end|>b</s>c", {"</s>", "<|im_end|>"}), "a");
  EXPECT_EQ(cut_at_stop("abc", {}), "abc");
  EXPECT_EQ(cut_at_stop("abc", {""}), "abc");
}

TEST(Format, AcceptsTheTemplateWithAnyNewlines) {
  EXPECT_EQ(format_reward("<think>x</think><answer>5</answer>", false), 1.0);
  EXPECT_EQ(format_reward("  <think>\nline 1\nline 2\n</think>\n\n<answer>\n5\n</answer>\n", false), 1.0);
  EXPECT_EQ(format_reward("<think>\r\na\r\n</think>\r\n<answer>\r\n5\r\n</answer>\r\n", false), 1.0);
  EXPECT_EQ(format_reward("<think>...</think><answer>5</answer>", false), 1.0);
}

TEST(Format, RejectsEverythingElse) {
  const char* bad[] = {
      "<think>x</think>",                                           // no answer
      "<answer>5</answer>",                                         // no think
      "<think> \n </think><answer>5</answer>",                      // blank think
      "<think>x</think><answer> </answer>",                         // blank answer
      "pre <think>x</think><answer>5</answer>",                     // text before
      "<think>x</think> mid <answer>5</answer>",                    // text between
      "<think>x</think><answer>5</answer> post",                    // text after
      "<think>x</think><answer>5</answer><answer>6</answer>",       // repeated answer
      "<think>x</think><think>y</think><answer>5</answer>",         // repeated think
      "<think><think>x</think></think><answer>5</answer>",          // nested think
      "<think>x <answer>4</answer></think><answer>5</answer>",      // tag inside think
      "<answer>5</answer><think>x</think>",                         // wrong order
      "<think>x</think><answer>5",                                  // unclosed
      "<think>x<image></think><answer>5</answer>",                  // vision placeholder
      "<think>x</think><answer>5</answer><|vision_end|>",
  };
  for (const char* text : bad) EXPECT_EQ(format_reward(text, false), 0.0) << text;
  EXPECT_EQ(format_reward("<think>x</think><answer>5</answer>", true), 0.0);  // truncated
}

TEST(Format, LinearOnHugeInputs) {
  const std::string think(200000, 'x');
  EXPECT_EQ(format_reward("<think>" + think + "</think><answer>1</answer>", false), 1.0);
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "<think>";
  EXPECT_EQ(format_reward(many, false), 0.0);
}

}  // namespace
}  // namespace seer::reward
