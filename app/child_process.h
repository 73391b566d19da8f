// Child processes of `seer run`: started in their own process group (so a signal reaches mpirun and its
// ranks together), stdout+stderr appended to a log file, stop signals unblocked, and killed by the kernel
// if `seer run` itself dies (PR_SET_PDEATHSIG), so nothing outlives the launcher.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace seer::app {

class ChildProcess {
 public:
  /// Starts argv[0] (looked up in PATH when it has no '/') with `env` added to this process's environment.
  /// Throws seer::Error naming the program when it cannot start (the exec failure is reported by the child
  /// through a pipe, so a missing mpirun is an error here, not a silent exit 127).
  ChildProcess(std::string name, const std::vector<std::string>& argv, const std::string& log_path,
               const std::map<std::string, std::string>& env = {});
  ~ChildProcess();  ///< kills the group (SIGKILL) if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  /// Exit status once it has exited (128 + signal when killed), nullopt while running. Never blocks.
  std::optional<int> poll();
  /// Sends `sig` to the child's process group.
  void signal(int sig);
  /// SIGTERM to the group, up to `grace_seconds` for it to exit, then SIGKILL. Returns the exit status.
  int stop(double grace_seconds);

 private:
  std::string name_, log_path_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace seer::app
