// Bearer-token checks shared by the gRPC services (reward service, coordinator).
#pragma once

#include <string>

namespace seer {

/// True when `header` (the "authorization" metadata value) is exactly "Bearer <token>". The comparison's
/// time does not depend on where the strings differ (only the length may leak).
inline bool bearer_matches(const std::string& header, const std::string& token) {
  const std::string expected = "Bearer " + token;
  if (header.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < header.size(); ++i) diff |= static_cast<unsigned char>(header[i] ^ expected[i]);
  return diff == 0;
}

}  // namespace seer
