// Process-wide logging (spdlog). Every line carries the process role and rank, so interleaved logs of
// many processes stay attributable: "[learner 1/2]", "[rollout 0]", "[reward]".
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace seer::log {

/// Who is logging. world_size < 0 means "no world" (the rank alone is printed); rank < 0 means no rank.
struct Identity {
  std::string role = "seer";  ///< learner | rollout | reward | run | eval | data | ...
  int rank = -1;
  int world_size = -1;
};

/// "[learner 1/2]", "[rollout 0]", "[reward]".
std::string prefix(const Identity& who);

/// Parses trace|debug|info|warn|error|off; throws seer::Error naming the level and the choices.
spdlog::level::level_enum parse_level(std::string_view level);

/// Installs the default logger: stderr, colour when it is a terminal, pattern
/// "YYYY-mm-dd HH:MM:SS.mmm [role rank/world] level message". Call once in main, before any thread starts.
void init(const Identity& who, std::string_view level);

/// As init, but writes to `sink` (tests, log files in a run directory).
void init_with_sink(const Identity& who, std::string_view level, std::shared_ptr<spdlog::sinks::sink> sink);

}  // namespace seer::log
