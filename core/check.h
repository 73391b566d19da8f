// Error checks with context (style: c10d C10D_NCCL_CHECK, llm.c fopenCheck).
// Components throw seer::Error; processes and RPC edges turn it into an exit status or a gRPC status.
#pragma once

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace seer {

/// The one exception type seer components throw for bad input or a failed external call.
/// what() is the full message: "<what failed>: <detail>[ (hint: ...)]"; file:line of the check is in where().
class Error : public std::runtime_error {
 public:
  Error(std::string message, std::string where) : std::runtime_error(std::move(message)), where_(std::move(where)) {}
  /// Source location ("core/config_load.cpp:42") of the check that failed.
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

/// A service that did not answer (gRPC UNAVAILABLE or DEADLINE_EXCEEDED after the client's own retries):
/// callers that must never drop work (rollout workers) wait and try again; anything else is an Error.
class Unavailable : public Error {
 public:
  using Error::Error;
};

}  // namespace seer

/// SEER_CHECK(cond, fmt, args...): throws seer::Error with the formatted message when cond is false.
#define SEER_CHECK(cond, ...)                                                                       \
  do {                                                                                              \
    if (!(cond)) {                                                                                  \
      throw ::seer::Error(::fmt::format(__VA_ARGS__), ::fmt::format("{}:{}", __FILE__, __LINE__)); \
    }                                                                                               \
  } while (0)

/// SEER_FAIL(fmt, args...): throws seer::Error unconditionally.
#define SEER_FAIL(...) throw ::seer::Error(::fmt::format(__VA_ARGS__), ::fmt::format("{}:{}", __FILE__, __LINE__))
