// Preflight of the machine side: launcher, addresses, secrets, folders, disk (app/preflight.h).
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "app/preflight.h"
#include "app/process_setup.h"
#include "core/tls_options.h"
#include "model/param_count.h"

namespace seer::app {
namespace {

namespace fs = std::filesystem;

/// `program` as run by execvp: a path with '/', else the first executable match on PATH.
bool on_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "";
  size_t begin = 0;
  while (begin <= dirs.size()) {
    const size_t end = std::min(dirs.find(':', begin), dirs.size());
    const std::string dir = dirs.substr(begin, end - begin);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0 && fs::is_regular_file(candidate)) return true;
    begin = end + 1;
  }
  return false;
}

/// "" when a TCP socket can bind host:port now (port 0 = any free port), else the reason.
std::string bind_problem(std::string host, int64_t port) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) return fmt::format("cannot resolve '{}': {}", host, ::gai_strerror(rc));
  std::string why = "no address to bind";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int s = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (s < 0) continue;
    const int one = 1;
    ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // as gRPC and the /metrics server do
    const bool bound = ::bind(s, a->ai_addr, a->ai_addrlen) == 0;
    if (!bound) why = std::strerror(errno);
    ::close(s);
    if (bound) {
      why.clear();
      break;
    }
  }
  ::freeaddrinfo(found);
  return why;
}

void check_address(const std::string& field, const std::string& host, int64_t port, Findings& f) {
  const std::string why = bind_problem(host, port);
  if (!why.empty()) f.error(field, fmt::format("cannot bind {}:{}: {}", host, port, why));
}

/// The nearest existing folder at or above `dir` (what a create_directories would create under).
fs::path existing_ancestor(fs::path dir) {
  dir = fs::absolute(dir);
  while (!fs::exists(dir) && dir.has_parent_path() && dir.parent_path() != dir) dir = dir.parent_path();
  return dir;
}

/// Whether files can be created in `dir` (or in the folders it would be created in): tries a temporary file
/// in the nearest existing folder and removes it at once.
bool check_writable(const std::string& field, const std::string& dir, Findings& f) {
  const fs::path base = existing_ancestor(dir);
  if (!fs::is_directory(base)) {
    f.error(field, fmt::format("'{}' cannot be created: '{}' is not a folder", dir, base.string()));
    return false;
  }
  const fs::path probe = base / fmt::format(".seer-check-{}", ::getpid());
  {
    std::ofstream out(probe);
    if (!out) {
      f.error(field, fmt::format("'{}' is not writable{}", dir,
                                 base == fs::absolute(dir) ? "" : fmt::format(" (its existing parent '{}' is not)", base.string())));
      return false;
    }
  }
  std::error_code ignored;
  fs::remove(probe, ignored);
  return true;
}

void check_secret(const std::string& prefix, const std::string& file, const std::string& env, Findings& f) {
  if (!file.empty()) {
    std::ifstream in(file);
    std::string first;
    if (!in) {
      f.error(prefix + ".auth_token_file", fmt::format("'{}' cannot be read", file));
    } else if (!std::getline(in, first) || first.find_first_not_of(" \t\r") == std::string::npos) {
      f.error(prefix + ".auth_token_file", fmt::format("'{}' holds no token on its first line", file));
    }
  }
  if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (v == nullptr || *v == '\0') f.error(prefix + ".auth_token_env", fmt::format("environment variable {} is not set", env));
  }
}

std::string human_bytes(double bytes) {
  const double mib = bytes / (1024.0 * 1024.0);
  return mib < 1024 ? fmt::format("{:.1f} MiB", mib) : fmt::format("{:.1f} GiB", mib / 1024.0);
}

/// Checkpoints on disk at the peak: keep_last of them plus the one being written (or every one with keep_last 0).
void check_disk(const ExperimentConfig& cfg, const model::VlmConfig& model, Findings& f) {
  const model::ParameterCount n = model::count_parameters(model);
  const int64_t trainable = n.total() - (cfg.model.freeze_vision_tower ? n.vision_tower : 0);
  // fp32 weights (the learner's master copy) + AdamW's two fp32 moments of every trained parameter.
  const double per_checkpoint = 4.0 * static_cast<double>(n.total()) + 8.0 * static_cast<double>(trainable);
  const int64_t steps = cfg.trainer.steps;
  const int64_t written = (cfg.checkpoint.every_steps > 0 ? steps / cfg.checkpoint.every_steps : 0) + 1;
  const int64_t kept = cfg.checkpoint.keep_last > 0 ? std::min(written, cfg.checkpoint.keep_last + 1) : written;
  const std::string dir = cfg.checkpoint.dir.empty() ? cfg.resolved_run_dir() + "/checkpoints" : cfg.checkpoint.dir;
  std::error_code ec;
  const fs::space_info space = fs::space(existing_ancestor(dir), ec);
  if (ec) return;
  const double need = per_checkpoint * static_cast<double>(kept);
  if (need > static_cast<double>(space.available)) {
    f.error("checkpoint.keep_last", fmt::format("{} checkpoints of {} each need {}, but '{}' has {} free", kept,
                                                human_bytes(per_checkpoint), human_bytes(need), dir, human_bytes(static_cast<double>(space.available))));
  } else if (need > 0.8 * static_cast<double>(space.available)) {
    f.warning("checkpoint.keep_last", fmt::format("{} checkpoints of {} each need {} of the {} free under '{}'", kept,
                                                  human_bytes(per_checkpoint), human_bytes(need), human_bytes(static_cast<double>(space.available)), dir));
  }
}

}  // namespace

void check_cluster(const ExperimentConfig& cfg, const std::optional<model::VlmConfig>& model,
                   const PreflightOptions& options, Findings& f) {
  const bool rl = cfg.algorithm.name != "sft";
  if (cfg.cluster.learner_ranks > 1 && !options.learner_only && !on_path(cfg.cluster.mpirun)) {
    f.error("cluster.mpirun", fmt::format("'{}' is not on PATH, and cluster.learner_ranks = {} needs it to start the "
                                          "learner ranks (install OpenMPI, or launch with srun: deploy/slurm)",
                                          cfg.cluster.mpirun, cfg.cluster.learner_ranks));
  }
  // Under a launcher this is learner rank 0 on its own host: only its own addresses can be checked here (the
  // reward service and the workers may run elsewhere).
  if (rl && !options.learner_only) {
    const std::string& a = cfg.reward.address;
    const size_t colon = a.rfind(':');
    check_address("reward.address", a.substr(0, colon), std::atoll(a.substr(colon + 1).c_str()), f);
  }
  check_address("cluster.bind_address", cfg.cluster.bind_address, cfg.cluster.coordinator_port, f);
  if (cfg.metrics.prometheus && cfg.metrics.port != 0) {
    const int64_t ranks = options.learner_only ? 1 : cfg.cluster.learner_ranks;
    for (int64_t r = 0; r < ranks; ++r) check_address("metrics.port", cfg.metrics.address, cfg.metrics.port + r, f);
    if (rl && !options.learner_only) {
      check_address("metrics.port", cfg.metrics.address, cfg.metrics.port + kMetricsOffsetReward, f);
      for (int64_t w = 0; w < cfg.rollout.workers; ++w) {
        check_address("metrics.port", cfg.metrics.address, cfg.metrics.port + kMetricsOffsetRollout + w, f);
      }
    }
  }
  if (rl && !options.learner_only) check_secret("reward", cfg.reward.auth_token_file, cfg.reward.auth_token_env, f);
  check_secret("cluster", cfg.cluster.auth_token_file, cfg.cluster.auth_token_env, f);
  try {
    const TlsOptions tls = read_tls(cfg.cluster);
    if (rl && tls.enabled() && tls.cert_chain.empty()) {
      f.error("cluster.tls_cert_file", "TLS is on (cluster.tls_ca_file) and this run starts the coordinator, which "
                                       "needs a certificate and key to present");
    }
  } catch (const std::exception& e) {
    f.error("cluster.tls", e.what());
  }
  bool writable = check_writable("run_dir", cfg.resolved_run_dir(), f);
  if (!cfg.checkpoint.dir.empty()) writable = check_writable("checkpoint.dir", cfg.checkpoint.dir, f) && writable;
  if (model && writable) check_disk(cfg, *model, f);
}

}  // namespace seer::app
