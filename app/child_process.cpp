#include "app/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/check.h"

namespace seer::app {
namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

ChildProcess::ChildProcess(std::string name, const std::vector<std::string>& argv, const std::string& log_path,
                           const std::map<std::string, std::string>& env)
    : name_(std::move(name)), log_path_(log_path) {
  SEER_CHECK(!argv.empty(), "{}: empty command line", name_);
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  SEER_CHECK(log >= 0, "{}: cannot open log file {}: {}", name_, log_path, std::strerror(errno));
  int report[2];  // exec failure: the child writes errno here; a successful exec closes it (O_CLOEXEC)
  SEER_CHECK(::pipe2(report, O_CLOEXEC) == 0, "{}: pipe: {}", name_, std::strerror(errno));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(log);
    ::close(report[0]);
    ::close(report[1]);
    SEER_FAIL("{}: fork: {}", name_, std::strerror(errno));
  }
  if (pid_ == 0) {  // child: only async-signal-safe calls until exec
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the launcher is already gone
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    for (const auto& [key, value] : env) ::setenv(key.c_str(), value.c_str(), 1);
    ::execvp(args[0], args.data());
    const int err = errno;
    (void)!::write(report[1], &err, sizeof(err));
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);  // also here: no race with a signal sent right after the constructor
  ::close(log);
  ::close(report[1]);
  int err = 0;
  const ssize_t n = ::read(report[0], &err, sizeof(err));
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof(err))) {
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    SEER_FAIL("{}: cannot run '{}': {}", name_, argv[0], std::strerror(err));
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !poll()) {
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::optional<int> ChildProcess::poll() {
  if (status_ || pid_ <= 0) return status_;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) status_ = decode_status(status);
  return status_;
}

void ChildProcess::signal(int sig) {
  if (pid_ > 0 && !poll()) ::kill(-pid_, sig);
}

int ChildProcess::stop(double grace_seconds) {
  if (auto s = poll()) return *s;
  signal(SIGTERM);
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (auto s = poll()) {
      ::kill(-pid_, SIGKILL);  // anything the child left in its group
      return *s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(-pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  status_ = decode_status(status);
  return *status_;
}

}  // namespace seer::app
