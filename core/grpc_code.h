// Names of gRPC status codes (grpc/status.h, "Status codes and their use in gRPC"), for error messages that a
// user can search for: "UNAUTHENTICATED (16)" rather than "16". No gRPC dependency.
#pragma once

#include <string>

#include <fmt/format.h>

namespace seer {

/// "NAME (code)" for a gRPC status code; "code N" for a number outside 0..16.
inline std::string grpc_code_name(int code) {
  static const char* const names[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                      "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
                                      "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  if (code < 0 || code > 16) return fmt::format("code {}", code);
  return fmt::format("{} ({})", names[code], code);
}

}  // namespace seer
