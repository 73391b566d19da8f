#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/check.h"

namespace seer {

void write_file_atomic(const std::string& path, std::string_view content) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
    SEER_CHECK(!ec, "cannot create folder '{}' for '{}': {}", target.parent_path().string(), path, ec.message());
  }
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  SEER_CHECK(fd >= 0, "cannot create '{}': {}", tmp, std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      SEER_FAIL("cannot write '{}': {}", tmp, std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    SEER_FAIL("cannot flush '{}': {}", tmp, std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    SEER_FAIL("cannot rename '{}' to '{}': {}", tmp, path, std::strerror(err));
  }
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  SEER_CHECK(!std::filesystem::is_directory(path, ec), "cannot read '{}': it is a folder", path);
  std::ifstream in(path, std::ios::binary);
  SEER_CHECK(in.good(), "cannot open '{}': {}", path, std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  SEER_CHECK(!in.bad(), "cannot read '{}': {}", path, std::strerror(errno));
  return ss.str();
}

}  // namespace seer
