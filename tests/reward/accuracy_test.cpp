// Accuracy by answer type (contract section 2), with variants of each field-report class:
// B01 unparseable gold, B05/B08 math structure, B06 units, B09 tolerance, B11 choice, B12 text, B13/B14 boxes.
#include <cmath>

#include <gtest/gtest.h>

#include "reward/bbox.h"
#include "reward/choice.h"
#include "reward/math_answer.h"
#include "reward/numeric.h"
#include "reward/scorer.h"
#include "reward/text_match.h"

namespace seer::reward {
namespace {

double math_score(const std::string& answer, const std::string& gold) {
  auto a = parse_math(answer);
  auto g = parse_math(gold);
  if (!g) return -1;  // gold does not parse
  return a && math_equal(*a, *g, 1e-6) ? 1.0 : 0.0;
}

double numeric_score(const std::string& answer, const std::string& gold) {
  auto a = parse_quantity(answer);
  auto g = parse_quantity(gold);
  if (!g) return -1;
  return a ? numeric_accuracy(*a, *g, 1e-6) : 0.0;
}

TEST(Math, EvaluatesLatexAndArithmetic) {
  EXPECT_DOUBLE_EQ(*eval_constant("\\frac{12}{3}"), 4.0);
  EXPECT_DOUBLE_EQ(*eval_constant("\\dfrac12"), 0.5);
  EXPECT_DOUBLE_EQ(*eval_constant("\\tfrac{1}{4}"), 0.25);
  EXPECT_DOUBLE_EQ(*eval_constant("2^{-3}"), 0.125);
  EXPECT_DOUBLE_EQ(*eval_constant("2^3^2"), 512.0);  // right associative
  EXPECT_DOUBLE_EQ(*eval_constant("-2^2"), -4.0);
  EXPECT_DOUBLE_EQ(*eval_constant("\\sqrt{16}"), 4.0);
  EXPECT_DOUBLE_EQ(*eval_constant("\\sqrt[3]{27}"), 3.0);
  EXPECT_DOUBLE_EQ(*eval_constant("\\sqrt[3]{-8}"), -2.0);
  EXPECT_DOUBLE_EQ(*eval_constant("3 \\cdot 4 \\times 2"), 24.0);
  EXPECT_DOUBLE_EQ(*eval_constant("2(3+4)"), 14.0);
  EXPECT_DOUBLE_EQ(*eval_constant("\\left(1+2\\right)^2"), 9.0);
  EXPECT_DOUBLE_EQ(*eval_constant("5!"), 120.0);
  EXPECT_DOUBLE_EQ(*eval_constant("|-3|"), 3.0);
  EXPECT_NEAR(*eval_constant("2\\pi"), 2 * M_PI, 1e-15);
  EXPECT_NEAR(*eval_constant("e^{2}"), std::exp(2.0), 1e-12);
  EXPECT_FALSE(eval_constant("\\sin^2 x + \\cos^2 x"));  // has a free variable
  EXPECT_FALSE(eval_constant("1/0"));
  EXPECT_FALSE(eval_constant("\\frac{1}{2"));
  EXPECT_FALSE(eval_constant("5 \\text{ cm}"));
}

TEST(Math, FreeVariablesAtRandomPoints) {
  EXPECT_EQ(math_score("x^{2}+1", "x^2+1"), 1.0);
  EXPECT_EQ(math_score("(x+1)^2", "x^2+2x+1"), 1.0);
  EXPECT_EQ(math_score("\\sin^2 x + \\cos^2 x", "1"), 1.0);
  EXPECT_EQ(math_score("x^2+2", "x^2+1"), 0.0);
  EXPECT_EQ(math_score("2ab", "2 a b"), 1.0);
  EXPECT_EQ(math_score("y", "x"), 0.0);
  EXPECT_EQ(math_score("x", "5"), 0.0);
  EXPECT_EQ(math_score("\\frac{x}{2}", "0.5x"), 1.0);
}

TEST(Math, TuplesSetsAndEquations) {
  EXPECT_EQ(math_score("\\{2, 1\\}", "\\{1, 2\\}"), 1.0);
  EXPECT_EQ(math_score("\\{1, 2, 3\\}", "\\{1, 2\\}"), 0.0);
  EXPECT_EQ(math_score("(2, 1)", "(1, 2)"), 0.0);
  EXPECT_EQ(math_score("(1, 2)", "(1, 2)"), 1.0);
  EXPECT_EQ(math_score("(1, 2)", "\\{1, 2\\}"), 0.0);  // a tuple never equals a set
  EXPECT_EQ(math_score("\\{1, 2\\}", "(1, 2)"), 0.0);
  EXPECT_EQ(math_score("[0, 1)", "(0, 1)"), 0.0);      // brackets matter
  EXPECT_EQ(math_score("x = 5", "5"), 1.0);
  EXPECT_EQ(math_score("5", "x=5"), 1.0);
  EXPECT_EQ(math_score("n = 1, 2, 3", "n=2, 3, 4"), 0.0);
  EXPECT_EQ(math_score("n = 3, 2, 4", "n=2, 3, 4"), 1.0);  // a bare list is unordered
  EXPECT_EQ(math_score("D = (0, 1.5)", "D = (0, 1)"), 0.0);
  EXPECT_EQ(math_score("y = 2x + 1", "2x+1"), 1.0);
  EXPECT_EQ(math_score("2y = 4x + 2", "x + 0.5 = 0.5y"), 1.0);   // equations up to a factor
  EXPECT_EQ(math_score("x^2 + y^2 = 2", "x^2 + y^2 = 1"), 0.0);
}

TEST(Math, ToleranceIsRelativeExceptAtZero) {
  EXPECT_EQ(math_score("\\frac{1}{2^{98}}", "\\frac{1}{2^{99}}"), 0.0);
  EXPECT_EQ(math_score("4.123105625617661", "\\sqrt{17}"), 1.0);
  EXPECT_EQ(math_score("4.12", "\\sqrt{17}"), 0.0);
  EXPECT_EQ(math_score("1e-13", "0"), 1.0);
  EXPECT_EQ(math_score("1e-11", "0"), 0.0);
  EXPECT_TRUE(numbers_equal(1e300, 1e300 * (1 + 1e-7), 1e-6));
  EXPECT_FALSE(numbers_equal(NAN, NAN, 1e-6));
}

TEST(Math, BoundedDepthNeverOverflows) {
  std::string deep(100000, '(');
  deep += "1";
  deep += std::string(100000, ')');
  EXPECT_FALSE(parse_math(deep));  // too deep: refused, not a stack overflow
  std::string braces(50000, '{');
  EXPECT_FALSE(parse_math(braces));
}

TEST(Numeric, UnitsPercentSeparators) {
  EXPECT_EQ(numeric_score("2 bpm", "2"), 1.0);
  EXPECT_EQ(numeric_score("2", "2 bpm"), 1.0);
  EXPECT_EQ(numeric_score("2 cm", "2 m"), 0.0);
  EXPECT_EQ(numeric_score("200 cm", "2 m"), 0.0);   // never converted
  EXPECT_EQ(numeric_score("28\\%", "28%"), 1.0);
  EXPECT_EQ(numeric_score("28 percent", "28%"), 1.0);
  EXPECT_EQ(numeric_score("50\\%", "0.5"), 0.0);     // no implicit scaling
  EXPECT_EQ(numeric_score("30", "30^\\circ"), 1.0);
  EXPECT_EQ(numeric_score("30°", "30^{\\circ}"), 1.0);
  EXPECT_EQ(numeric_score("\\$5", "5"), 1.0);
  EXPECT_EQ(numeric_score("5 dollars", "\\$5"), 1.0);
  EXPECT_EQ(numeric_score("1,000", "1000"), 1.0);
  EXPECT_EQ(numeric_score("1,234,567.5", "1234567.5"), 1.0);
  EXPECT_EQ(numeric_score("1{,}000", "1000"), 1.0);
  EXPECT_EQ(numeric_score("12,34", "1234"), 0.0);    // not a thousands grouping
  EXPECT_EQ(numeric_score("3.0", "3"), 1.0);
  EXPECT_EQ(numeric_score("\\frac{1}{2}", "0.5"), 1.0);
  EXPECT_EQ(numeric_score("1/2", "0.5"), 1.0);
  EXPECT_EQ(numeric_score("-3", "-3.0"), 1.0);
  EXPECT_EQ(numeric_score("0.0000002", "0.0000001"), 0.0);
  EXPECT_EQ(numeric_score("21", "1"), 0.0);
  EXPECT_EQ(numeric_score("abc", "abc"), -1);         // a non-number gold is unparseable
  EXPECT_EQ(numeric_score("(B)", "(B)"), -1);
}

TEST(Numeric, AutoPicksNumericOnlyForPlainNumbers) {
  EXPECT_EQ(resolve_auto_type("42"), AnswerType::kNumeric);
  EXPECT_EQ(resolve_auto_type("-1,000.5 cm"), AnswerType::kNumeric);
  EXPECT_EQ(resolve_auto_type("28\\%"), AnswerType::kNumeric);
  EXPECT_EQ(resolve_auto_type("\\frac{1}{2}"), AnswerType::kMath);
  EXPECT_EQ(resolve_auto_type("x^2+1"), AnswerType::kMath);
  EXPECT_EQ(resolve_auto_type("(1, 2)"), AnswerType::kMath);
  EXPECT_EQ(resolve_auto_type("B"), AnswerType::kChoice);
  EXPECT_EQ(resolve_auto_type("(C)"), AnswerType::kChoice);
  EXPECT_EQ(resolve_auto_type("D. a red car"), AnswerType::kChoice);
  EXPECT_EQ(resolve_auto_type("[1, 2, 3, 4]"), AnswerType::kBbox);
  EXPECT_EQ(resolve_auto_type("yes"), AnswerType::kText);
  EXPECT_EQ(resolve_auto_type("an apple"), AnswerType::kText);
}

TEST(Choice, AcceptedForms) {
  for (const char* a : {"B", "b", "(B)", "B.", "B)", "B: a red car", "**B**", "Option B", "The answer is B",
                        "Answer: B", "The correct answer is (B).", "answer is **B**", "Not A, the answer is B",
                        "The answer is A. Actually, the answer is B."}) {
    EXPECT_EQ(parse_choice(a, {}).value_or('?'), 'B') << a;
  }
  EXPECT_FALSE(parse_choice("A or B", {}));
  EXPECT_FALSE(parse_choice("F", {}));               // not offered (default A-E)
  EXPECT_FALSE(parse_choice("E", {"A", "B", "C", "D"}));
  EXPECT_FALSE(parse_choice("I think it is C", {"A", "B", "C", "D", "E", "F", "G", "H", "I", "J"}));
  EXPECT_EQ(parse_choice("I think it is C", {}).value_or('?'), 'C');  // "I" is not an option here
  EXPECT_EQ(parse_choice("I think the answer is C", {"A", "B", "C", "D", "E", "F", "G", "H", "I", "J"}).value_or('?'),
            'C');
  EXPECT_FALSE(parse_choice("the answer is a cat", {}));  // lower-case 'a' in prose is an article
}

TEST(Text, NormalisedExactMatch) {
  EXPECT_EQ(text_accuracy("Final.", "final"), 1.0);
  EXPECT_EQ(text_accuracy("apple", "an apple"), 1.0);
  EXPECT_EQ(text_accuracy("The  Red\tCar!", "red car"), 1.0);
  EXPECT_EQ(text_accuracy("don't", "dont"), 1.0);  // punctuation removed, not replaced by a space
  EXPECT_EQ(text_accuracy("ＹＥＳ", "yes"), 1.0);
  EXPECT_EQ(text_accuracy("yes and no", "yes"), 0.0);
  EXPECT_EQ(text_accuracy("", ""), 0.0);
}

TEST(Bbox, ParseAndIou) {
  EXPECT_TRUE(parse_box("[1, 2, 3, 4]"));
  EXPECT_TRUE(parse_box("{\"bbox_2d\": [1, 2, 3, 4]}"));
  EXPECT_FALSE(parse_box("[1, 2, 3]"));
  EXPECT_FALSE(parse_box("[1, 2, 3, 4, 5]"));
  EXPECT_FALSE(parse_box("[[1, 2], [3, 4]]"));
  EXPECT_FALSE(parse_box("[0, 0, NaN, 10]"));
  EXPECT_FALSE(parse_box("{\"bbox_2d\": [1, 2]}"));
  EXPECT_FALSE(parse_box("{not json"));
  EXPECT_DOUBLE_EQ(iou({0, 0, 10, 10}, {0, 0, 10, 10}), 1.0);
  EXPECT_DOUBLE_EQ(iou({0, 0, 10, 10}, {5, 0, 15, 10}), 50.0 / 150.0);
  EXPECT_DOUBLE_EQ(iou({10, 10, 0, 0}, {0, 0, 10, 10}), 0.0);  // inverted
  EXPECT_DOUBLE_EQ(iou({0, 0, 1, 1}, {5, 5, 6, 6}), 0.0);
  const auto mapped = to_original_frame({420, 224, 840, 448}, BoxFrame::kAbsolute, {840, 448}, {1920, 1080});
  ASSERT_TRUE(mapped);
  EXPECT_DOUBLE_EQ((*mapped)[0], 960);
  EXPECT_DOUBLE_EQ((*mapped)[3], 1080);
  EXPECT_FALSE(to_original_frame({0, 0, 1, 1}, BoxFrame::kNorm1, {}, {}));
}

/// Score of `answer` against `gold` with answer type `type` ("auto" by default): accuracy, status.
std::pair<double, Status> score_as(const std::string& answer, const std::string& gold, AnswerType type = AnswerType::kAuto) {
  Sample s;
  s.completion = "<think>t</think><answer>" + answer + "</answer>";
  s.gold = gold;
  s.answer_type = type;
  const Score r = score_sample(s, ScoringOptions{});
  auto it = r.components.find("accuracy");
  return {it == r.components.end() ? 0.0 : it->second, r.status};
}

TEST(Scorer, MathLookingGoldIsNeverMatchedAsText) {
  // Issue 21's false accepts under answer_type auto: each wrong answer must score 0, whatever the gold parses as.
  const std::pair<const char*, const char*> wrong[] = {
      {"x>1", "x<1"},
      {"793<a<10", "-793<a<10"},
      {"\\{1\\pm\\sqrt5,2\\}", "\\{1\\pm\\sqrt5,-2\\}"},
      {"2045", "204_5"},
      {"[-1,0]\\cup[0,1]", "[-1,0)\\cup(0,1]"},
  };
  for (const auto& [answer, gold] : wrong) {
    for (AnswerType type : {AnswerType::kAuto, AnswerType::kMath}) {
      const auto [acc, status] = score_as(answer, gold, type);
      EXPECT_EQ(acc, 0.0) << answer << " vs gold " << gold << " (" << to_string(type) << ")";
    }
  }
  // A gold with math notation the parser cannot read is GOLD_UNPARSEABLE, not a text match of itself.
  EXPECT_EQ(score_as("x \\oplus y", "x \\oplus y").second, Status::kGoldUnparseable);
  // Words without math notation stay text.
  EXPECT_EQ(score_as("paris france", "Paris, France.").first, 1.0);
  EXPECT_EQ(score_as("World War 2", "world war 2.").second, Status::kOk);
}

TEST(TextMatch, KeepsCharactersThatChangeAMeaning) {
  EXPECT_EQ(normalize_text("The Apple."), "apple");
  EXPECT_EQ(normalize_text("x < 1"), "x < 1");
  EXPECT_NE(normalize_text("x<1"), normalize_text("x>1"));
  EXPECT_NE(normalize_text("[-1,0)"), normalize_text("[-1,0]"));
  EXPECT_NE(normalize_text("-793<a<10"), normalize_text("793<a<10"));
  EXPECT_NE(normalize_text("\\alpha"), normalize_text("alpha"));
  EXPECT_EQ(text_accuracy("x<1", "x > 1"), 0.0);
  EXPECT_EQ(text_accuracy("New York!", "new york"), 1.0);
}

TEST(Scorer, StatusPrecedenceAndTotal) {
  Sample s;
  s.completion = "<think>t</think><answer>5</answer>";
  s.gold = "5";
  Score r = score_sample(s, ScoringOptions{});
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_DOUBLE_EQ(r.total, 0.9 + 0.1);
  s.truncated = true;
  s.gold = "";
  r = score_sample(s, ScoringOptions{});
  EXPECT_EQ(r.status, Status::kTruncated);  // truncation first, before the gold is looked at
  EXPECT_DOUBLE_EQ(r.total, 0.0);
  s.truncated = false;
  r = score_sample(s, ScoringOptions{});
  EXPECT_EQ(r.status, Status::kGoldUnparseable);
  EXPECT_DOUBLE_EQ(r.total, 0.1);  // format still counts
}

TEST(Scorer, SpentBudgetIsUnscorableNeverZero) {
  Sample s;
  s.completion = "<think>t</think><answer>x^2+1</answer>";
  s.gold = "x^2+1";
  ScoringOptions o;
  o.budget_seconds = 1e-12;
  const Score r = score_sample(s, o);
  EXPECT_EQ(r.status, Status::kUnscorable);
  EXPECT_TRUE(r.components.empty());
  EXPECT_FALSE(r.detail.empty());
}

TEST(Scorer, BoxWithoutSizesForNormalisedFrameIsUnscorable) {
  Sample s;
  s.completion = "<think>t</think><answer>[0.1, 0.1, 0.5, 0.5]</answer>";
  s.gold = "[10, 10, 50, 50]";
  s.answer_type = AnswerType::kBbox;
  s.box_frame = BoxFrame::kNorm1;
  const Score r = score_sample(s, ScoringOptions{});
  EXPECT_EQ(r.status, Status::kUnscorable);
  EXPECT_NE(r.detail.find("image sizes"), std::string::npos);
}

TEST(Scorer, LengthPenaltyFollowsDapo) {
  EXPECT_DOUBLE_EQ(overlong_penalty(100, 512, 0, 1.0), 0.0);
  EXPECT_DOUBLE_EQ(overlong_penalty(384, 512, 128, 1.0), 0.0);
  EXPECT_DOUBLE_EQ(overlong_penalty(448, 512, 128, 1.0), -0.5);
  EXPECT_DOUBLE_EQ(overlong_penalty(512, 512, 128, 1.0), -1.0);
  EXPECT_DOUBLE_EQ(overlong_penalty(600, 512, 128, 1.0), -1.0);
  Sample s;
  s.completion = "<think>t</think><answer>5</answer>";
  s.gold = "5";
  s.completion_tokens = 448;
  s.max_new_tokens = 512;
  ScoringOptions o;
  o.weights = {{"accuracy", 1.0}, {"format", 0.0}, {"length", 1.0}};
  o.overlong_buffer_tokens = 128;
  const Score r = score_sample(s, o);
  EXPECT_DOUBLE_EQ(r.components.at("length"), -0.5);
  EXPECT_DOUBLE_EQ(r.total, 0.5);
}

}  // namespace
}  // namespace seer::reward
