// seer: one executable, one subcommand per process role (train, rollout, reward, run, ...).
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "app/commands.h"
#include "core/check.h"
#include "core/did_you_mean.h"
#include "core/log.h"

int main(int argc, char** argv) {
  using namespace seer::app;
  Invocation inv;
  CLI::App app{"seer: train vision-language models into visual reasoning models (SFT + GRPO)", "seer"};
  app.require_subcommand(1, 1);
  app.fallthrough();
  app.add_option("--log-level", inv.log_level, "trace | debug | info | warn | error (default: the config's log_level)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  add_config_command(app, inv);
  add_version_command(app, inv);
  add_pending_commands(app, inv);

  // A misspelt subcommand gets a suggestion instead of CLI11's generic "not expected" message.
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
    const std::string word = argv[1];
    if (std::find(names.begin(), names.end(), word) == names.end()) {
      const std::string near = seer::closest_match(word, names);
      std::fprintf(stderr, "seer: unknown command '%s'%s; run 'seer --help' for the list\n", word.c_str(),
                   near.empty() ? "" : (" (did you mean '" + near + "'?)").c_str());
      return kExitUnavailable;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const seer::Error& e) {
    spdlog::error("{}", e.what());
    spdlog::debug("raised at {}", e.where());
    return kExitBadInput;
  } catch (const std::exception& e) {
    spdlog::critical("unexpected error: {}", e.what());
    return 3;
  }
  return inv.exit_code;
}
