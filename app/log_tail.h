// What `seer run` prints when a child process dies: the last error lines of its log, so the reason is on screen
// and not only in RUN_DIR/logs.
#pragma once

#include <string>
#include <vector>

namespace seer::app {

/// Up to `max_lines` lines from the end of `log_path` that report an error (spdlog's "error"/"critical" level,
/// "Error", "terminate called", "what():", mpirun's "ERROR"/"aborted"), in file order; when none does, its last
/// `max_lines` non-empty lines. Reads at most the last 64 KiB. Empty when the file cannot be read.
std::vector<std::string> last_error_lines(const std::string& log_path, size_t max_lines = 3);

/// "<what>; its last error lines (LOG):\n  | line\n  | line" or "<what>; see LOG" when the log says nothing.
std::string with_log_excerpt(const std::string& what, const std::string& log_path);

}  // namespace seer::app
