// Writing files so that a crash never leaves a half-written one: write a temp file beside the target,
// flush it to disk, then rename over the target.
#pragma once

#include <string>
#include <string_view>

namespace seer {

/// Atomically replaces `path` with `content`, creating missing parent folders. Throws seer::Error naming
/// the path and the OS error; on failure the old file (if any) is untouched and no temp file is left.
void write_file_atomic(const std::string& path, std::string_view content);

/// Whole file as bytes. Throws seer::Error naming the path when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace seer
