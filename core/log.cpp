#include "core/log.h"

#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "core/check.h"

namespace seer::log {

std::string prefix(const Identity& who) {
  if (who.rank < 0) return fmt::format("[{}]", who.role);
  if (who.world_size < 0) return fmt::format("[{} {}]", who.role, who.rank);
  return fmt::format("[{} {}/{}]", who.role, who.rank, who.world_size);
}

spdlog::level::level_enum parse_level(std::string_view level) {
  static const std::pair<const char*, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug}, {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"error", spdlog::level::err},   {"off", spdlog::level::off}};
  for (const auto& [name, value] : kLevels) {
    if (level == name) return value;
  }
  SEER_FAIL("unknown log level '{}' (expected trace, debug, info, warn, error or off)", level);
}

void init_with_sink(const Identity& who, std::string_view level, std::shared_ptr<spdlog::sinks::sink> sink) {
  const auto lvl = parse_level(level);
  auto logger = std::make_shared<spdlog::logger>(who.role, std::move(sink));
  // The prefix is literal text in the pattern; escape '%' in case a role ever contains one.
  std::string fixed;
  for (char c : prefix(who)) fixed += c == '%' ? std::string("%%") : std::string(1, c);
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e " + fixed + " %^%l%$ %v");
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

void init(const Identity& who, std::string_view level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(spdlog::color_mode::automatic);
  init_with_sink(who, level, std::move(sink));
}

}  // namespace seer::log
