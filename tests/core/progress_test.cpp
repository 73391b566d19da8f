// Progress lines (core/progress.h): silent when disabled or for short steps; once drawn, the count, total,
// percentage and rate, and a final line that ends with a newline.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/progress.h"

namespace seer {
namespace {

struct EnabledFor {
  explicit EnabledFor(bool on) : was(progress_enabled()) { set_progress_enabled(on); }
  ~EnabledFor() { set_progress_enabled(was); }
  bool was;
};

TEST(Progress, SilentWhenDisabled) {
  EnabledFor off(false);
  testing::internal::CaptureStdout();
  {
    Progress p("loading", 100, "rows");
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    p.add(50);
  }
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
}

TEST(Progress, SilentForAShortStep) {
  EnabledFor on(true);
  testing::internal::CaptureStdout();
  {
    Progress p("loading", 100, "rows");
    p.add(100);
  }
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
}

TEST(Progress, DrawsCountTotalAndRateThenAFinalLine) {
  EnabledFor on(true);
  testing::internal::CaptureStdout();
  {
    Progress p("evaluating test.jsonl", 200, "rows");
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    p.add(50);
    p.set(200);  // within 0.2 s of the last draw: not drawn until finish
    p.finish();
  }
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("\r\033[Kevaluating test.jsonl: 50/200 rows (25%), "), std::string::npos) << out;
  EXPECT_NE(out.find(" s left"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\033[Kevaluating test.jsonl: 200/200 rows (100%) in 0."), std::string::npos) << out;
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find("200/200", out.find("200/200") + 1), std::string::npos) << "final line drawn twice: " << out;
}

TEST(Progress, BytesShownInMebibytesWithUnknownTotal) {
  EnabledFor on(true);
  testing::internal::CaptureStdout();
  {
    Progress p("writing model.safetensors", 0, "MiB", 1 << 20);
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    p.add(3 << 19);  // 1.5 MiB
  }
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("writing model.safetensors: 1.5 MiB, "), std::string::npos) << out;
  EXPECT_NE(out.find("writing model.safetensors: 1.5 MiB in "), std::string::npos) << out;
}

}  // namespace
}  // namespace seer
