// `seer config show|check [FILE] [--set KEY=VALUE ...]`: resolve and validate an experiment config.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "app/commands.h"
#include "core/config_load.h"

namespace seer::app {
namespace {

struct ConfigArgs {
  std::string file;
  std::vector<std::string> overrides;
};

/// Loads FILE (or the defaults) with overrides; on problems prints each as FILE:LINE:COL: message.
bool resolve(const ConfigArgs& args, ExperimentConfig& out) {
  try {
    out = args.file.empty() ? default_config(args.overrides) : load_config(args.file, args.overrides);
    return true;
  } catch (const ConfigError& e) {
    for (const auto& issue : e.issues()) std::fprintf(stderr, "%s\n", issue.to_string().c_str());
    std::fprintf(stderr, "seer config: %zu problem%s\n", e.issues().size(), e.issues().size() == 1 ? "" : "s");
    return false;
  }
}

void add_file_options(CLI::App* cmd, ConfigArgs& args) {
  cmd->add_option("file", args.file, "experiment config (YAML); omitted = the defaults");
  cmd->add_option("--set", args.overrides, "override a key, e.g. --set trainer.lr=2e-6 (repeatable)")
      ->allow_extra_args(false);
}

}  // namespace

void add_config_command(CLI::App& app, Invocation& inv) {
  CLI::App* config = app.add_subcommand("config", "Show or check an experiment config");
  config->require_subcommand(1, 1);
  config->fallthrough();  // global options (--log-level) may follow the subcommand
  auto args = std::make_shared<ConfigArgs>();

  CLI::App* show = config->add_subcommand("show", "Print the resolved config (defaults + file + --set) as YAML");
  add_file_options(show, *args);
  show->fallthrough();
  show->callback([args, &inv] {
    ExperimentConfig cfg;
    if (!resolve(*args, cfg)) {
      inv.exit_code = kExitBadInput;
      return;
    }
    std::fputs(config_to_yaml(cfg).c_str(), stdout);
  });

  CLI::App* check = config->add_subcommand("check", "Validate a config; exit 1 listing every problem");
  add_file_options(check, *args);
  check->fallthrough();
  check->callback([args, &inv] {
    ExperimentConfig cfg;
    if (!resolve(*args, cfg)) {
      inv.exit_code = kExitBadInput;
      return;
    }
    std::printf("%s: ok\n", args->file.empty() ? "<defaults>" : args->file.c_str());
  });
}

}  // namespace seer::app
