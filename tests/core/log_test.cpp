#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "core/check.h"
#include "core/log.h"

namespace seer {
namespace {

TEST(Log, PrefixCarriesRoleAndRank) {
  EXPECT_EQ(log::prefix({"learner", 1, 2}), "[learner 1/2]");
  EXPECT_EQ(log::prefix({"rollout", 0, -1}), "[rollout 0]");
  EXPECT_EQ(log::prefix({"reward", -1, -1}), "[reward]");
}

TEST(Log, EveryLineCarriesPrefixAndRespectsLevel) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  log::init_with_sink({"learner", 1, 2}, "info", sink);
  spdlog::debug("hidden");
  spdlog::info("step {}", 3);
  spdlog::warn("slow");
  spdlog::default_logger()->flush();
  const std::string text = out.str();
  EXPECT_EQ(text.find("hidden"), std::string::npos);
  EXPECT_NE(text.find("[learner 1/2] info step 3"), std::string::npos) << text;
  EXPECT_NE(text.find("[learner 1/2] warning slow"), std::string::npos) << text;
}

TEST(Log, UnknownLevelIsAnError) {
  EXPECT_THROW(log::parse_level("verbose"), Error);
  EXPECT_EQ(log::parse_level("debug"), spdlog::level::debug);
}

}  // namespace
}  // namespace seer
