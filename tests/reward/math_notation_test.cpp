// Math notation compared by meaning (issue 21, item 2): every case here is one that the differential test
// against Math-Verify 0.8.0 (scripts/mathverify) found scored wrongly before, or its wrong-answer twin. Each
// row is scored through the whole scorer (extraction, auto type resolution, math or numeric accuracy) with
// answer_type auto and math, so what is tested is what the reward service returns.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reward/math_answer.h"
#include "reward/scorer.h"

namespace seer::reward {
namespace {

struct Case {
  const char* gold;
  const char* answer;
  double expected;  // accuracy
};

double accuracy(const Case& c, AnswerType type) {
  Sample s;
  s.gold = c.gold;
  s.completion = std::string("<think>t</think><answer>") + c.answer + "</answer>";
  s.answer_type = type;
  const Score r = score_sample(s, ScoringOptions{});
  if (r.status != Status::kOk) return -1;  // the gold must parse in every case here
  return r.components.at("accuracy");
}

void expect_all(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    for (AnswerType type : {AnswerType::kAuto, AnswerType::kMath}) {
      EXPECT_EQ(accuracy(c, type), c.expected)
          << "gold `" << c.gold << "` answer `" << c.answer << "` as " << to_string(type);
    }
  }
}

TEST(MathNotation, IntervalsWithOpenAndClosedEndsInfinityAndUnions) {
  expect_all({
      {"[-1, -\\frac{1}{2}) \\cup (-\\frac{1}{2}, 0) \\cup (0, 1) \\cup (1, \\infty)",
       "[-1, -\\tfrac12) \\cup (-\\tfrac12, 0) \\cup (0, 1) \\cup (1, \\infty)", 1},
      {"(2, 12) \\cup (12, 102)", "(2,12) \\cup (12,102)", 1},  // (12,102) is a pair, not twelve thousand
      {"[-1,0)\\cup(0,1]", "[-1,0]\\cup[0,1]", 0},
      {"(-\\infty, 5]", "(-\\infty,5]", 1},
      {"(-\\infty, 5]", "(-\\infty,5)", 0},
      {"\\{-1\\} \\cup [0,7)", "\\{-1\\} \\cup [0,7)", 1},
      {"x \\in [0, 7)", "[0,7)", 1},
  });
}

TEST(MathNotation, PlusMinusIsTheSetOfBothValues) {
  expect_all({
      {"1 \\pm \\sqrt{19}", "1+\\sqrt{19}, 1-\\sqrt{19}", 1},
      {"3 \\pm 2 \\sqrt{2}", "3 \\pm 2\\sqrt 2", 1},
      {"\\pm 2021", "{-2021, 2021}", 1},
      {"\\pm 2021", "2021", 0},
      {"\\{1\\pm\\sqrt{5},-2\\}", "\\{1\\pm\\sqrt{5},-2\\}", 1},
      {"\\{1\\pm\\sqrt5,-2\\}", "\\{1\\pm\\sqrt5,2\\}", 0},
      {"x = \\frac{1}{2}, x = \\frac{-1 \\pm \\sqrt{13}}{4}", "x = \\frac{1}{2}, x = \\frac{-1 \\pm \\sqrt{13}}{4}", 1},
  });
}

TEST(MathNotation, RelationsAndChains) {
  expect_all({
      {"x \\leq 5", "5 \\geq x", 1},
      {"x \\geq 5", "5 \\leq x", 1},
      {"x < 1", "-x > -1", 1},
      {"x <= 1", "-x >= -1", 1},
      {"x<1", "x>1", 0},
      {"k \\ge 2", "k \\ge 2", 1},
      {"-793<a<10", "(-793,10)", 1},
      {"-793<a<10", "793<a<10", 0},
      {"x \\neq 3", "x != 3", 1},
      {"0<f(x)<1", "(0,1)", 1},
      {"z = 1 + 1 = 2", "z = 3+3 = 2", 1},  // a chain: the last side is the stated value, as Math-Verify reads it
      {"2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{4}", 1},
      {"2x+4y-3=0", "y=-\\frac{1}{2}x-\\frac{3}{4}", 0},
  });
}

TEST(MathNotation, ListsOfTuplesSetsAndNamedValues) {
  expect_all({
      {"(37,3,3,13),(17,3,3,7),(3,37,3,13)", "(3, 37, 3, 13), (17,3,3,7), (37,3,3,13), (17,3,3,7)", 1},
      {"(2, 2), (1, 3)", "(2, 2), (3, 1)", 0},
      {"(p,q)=(3,2)", "(3, 2)", 1},
      {"(p,q)=(3,2)", "(2, 3)", 0},
      {"(p,q,r)=(3,2,7)", "(3,2,7)", 1},
      {"AB=4,CD=5", "4, 5", 1},
      {"a_3 = 2, a_{37} = 19", "a_{37} = 19, \\quad a_3 = 2", 1},
      {"V_{1}:V_{2}=11:21", "11:21", 1},
      {"V_{1}:V_{2}=11:21", "21:11", 0},
      {"\\frac{NO}{BO}=\\frac{1}{\\sqrt{6}}", "\\frac{1}{\\sqrt{6}}", 1},
      {"|AB|=1", "1", 1},
      {"(1,3)", "{1,3}", 1},  // plain braces group: {1,3} is the list 1, 3
      {"6 \\text{ and } 8", "6,8", 1},
      {"19, 46, and 82", "19, 46, \\text{ and } 82", 1},
      {"19, 46, and 82", "21, 36, and 82", 0},
      {"n=2, 3, 4", "n=1, 2, 3", 0},
  });
}

TEST(MathNotation, MatricesElementWise) {
  expect_all({
      {"\\begin{pmatrix} 0 & 3 \\\\ 0 & -1 \\end{pmatrix}", "\\begin{bmatrix} 0 & 3 \\\\ 0 & -1 \\end{bmatrix}", 1},
      {"\\begin{pmatrix} 10 & 6 \\\\ 8 & 0 \\end{pmatrix}", "\\begin{pmatrix} 10 & 8 \\\\ 6 & 0 \\end{pmatrix}", 0},
      {"\\begin{pmatrix}\\frac{1}{2} & 0 \\\\ 0 & 1\\end{pmatrix}", "\\begin{pmatrix}0.5 & 0 \\\\ 0 & 1\\end{pmatrix}", 1},
      {"\\begin{pmatrix}1 & 2\\end{pmatrix}", "\\begin{pmatrix}1 \\\\ 2\\end{pmatrix}", 0},
  });
}

TEST(MathNotation, FractionsFunctionsAndBases) {
  expect_all({
      {"\\frac{3}{7}", "\\cfrac{3}{7}", 1},
      {"\\frac{1}{2}", "\\sin\\frac{\\pi}{6}", 1},
      {"\\sec x", "\\frac{1}{\\cos x}", 1},
      {"\\cot x", "\\frac{\\cos x}{\\sin x}", 1},
      {"\\csc x", "\\frac{1}{\\cos x}", 0},
      {"5", "\\log_2 32", 1},
      {"3", "\\log_{10} 1000", 1},
      {"e^{3}", "\\exp(3)", 1},
      {"204_5", "204_{5}", 1},  // a numeral in base 5 (54)
      {"204_5", "2045", 0},
      {"6 \\cdot 8", "6 8", 0},  // two numbers side by side are not a product
  });
}

TEST(MathNotation, ThousandsPercentUnitsAndApproximations) {
  expect_all({
      {"11111111100", "11,\\! 111,\\! 111,\\! 100", 1},
      {"32349", "32{,}349", 1},
      {"1000", "1 000", 1},
      {"0.111", "0,111", 0},  // not a thousands grouping (and seer reads no decimal commas)
      {"28\\%", "28 pct", 1},
      {"28\\%", "28 percentage", 1},
      {"28\\%", "29 percent", 0},
      {"125", "125\\textnormal{ miles}", 1},
      {"1/3", "\\frac{1}{3} \\textbf{meters}", 1},
      {"15\\mbox{ cm}^2", "15", 1},
      {"15\\mbox{ cm}^2", "15\\text{ cm}^2", 1},
      {"5\\text{ cm}", "5\\text{ m}", 0},  // units as in the numeric type: different units are unequal
      {"\\frac{1}{2}\\text{ km}", "0.5\\text{ m}", 0},
      {"2^2", "4", 1},
      {"90^\\circ", "90", 1},
      {"11", "x\\approx11", 1},
      {"1/3", "x=1/3\\approx0.33", 1},
      {"11", "x=11", 1},
      {"11", "x=12", 0},
  });
}

}  // namespace
}  // namespace seer::reward
