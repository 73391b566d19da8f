#include "app/log_tail.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace seer::app {
namespace {

bool reports_error(const std::string& line) {
  for (const char* mark : {" error ", " critical ", "Error", "ERROR", "terminate called", "what():", "aborted"}) {
    if (line.find(mark) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> last_error_lines(const std::string& log_path, size_t max_lines) {
  std::ifstream in(log_path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff start = std::max<std::streamoff>(0, size - (64 << 10));
  in.seekg(start);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> lines, errors;
  std::istringstream s(text);
  std::string line;
  bool first = start > 0;  // a cut first line is dropped
  while (std::getline(s, line)) {
    if (first) {
      first = false;
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    lines.push_back(line);
    if (reports_error(line)) errors.push_back(line);
  }
  std::vector<std::string>& pick = errors.empty() ? lines : errors;
  if (pick.size() > max_lines) pick.erase(pick.begin(), pick.end() - static_cast<std::ptrdiff_t>(max_lines));
  return pick;
}

std::string with_log_excerpt(const std::string& what, const std::string& log_path) {
  const auto lines = last_error_lines(log_path);
  if (lines.empty()) return what + "; see " + log_path;
  std::string out = what + "; its last error lines (" + log_path + "):";
  for (const auto& l : lines) out += "\n  | " + l;
  return out;
}

}  // namespace seer::app
