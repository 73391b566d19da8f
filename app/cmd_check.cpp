// `seer check CONFIG [--set KEY=VALUE ...] [--sample N]`: the preflight (app/preflight.h) on its own, before a
// job is queued. Exit 0 when nothing is wrong (warnings allowed), 1 otherwise.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/preflight.h"
#include "core/config_load.h"

namespace seer::app {
namespace {

struct CheckArgs {
  std::string config;
  std::vector<std::string> overrides;
  int64_t sample = 0;
};

int check(const CheckArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  ExperimentConfig cfg;
  try {
    cfg = load_config(args.config, args.overrides);
  } catch (const ConfigError& e) {
    for (const auto& issue : e.issues()) std::printf("error: %s\n", issue.to_string().c_str());
    std::printf("%zu error%s in the config; nothing else was checked\n", e.issues().size(),
                e.issues().size() == 1 ? "" : "s");
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return kExitBadInput;
  }
  PreflightOptions options;
  options.sample_rows = args.sample;
  const Findings findings = preflight(cfg, options);
  print_findings(findings, stdout);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("seer check %s: %s (%.1f s)\n", args.config.c_str(), findings.ok() ? "ok" : "FAILED", seconds);
  return findings.ok() ? 0 : kExitBadInput;
}

}  // namespace

void add_check_command(CLI::App& app, Invocation& inv) {
  auto args = std::make_shared<CheckArgs>();
  CLI::App* cmd = app.add_subcommand(
      "check", "Preflight a run: config, model folder (headers only), datasets, addresses, folders and disk; "
               "every problem at once");
  cmd->add_option("config", args->config, "experiment config (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", args->overrides, "override a config key: section.key=value (repeatable)");
  cmd->add_option("--sample", args->sample,
                  "decode images and build prompts for N rows per data file, spread over it (default: every row)")
      ->check(CLI::NonNegativeNumber);
  cmd->fallthrough();
  cmd->callback([args, &inv] { inv.exit_code = check(*args); });
}

}  // namespace seer::app
