// seer: one executable, one subcommand per process role (train, rollout, reward, run, ...).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "app/blas_runtime.h"
#include "app/commands.h"
#include "core/check.h"
#include "core/did_you_mean.h"
#include "core/log.h"
#include "core/malloc_tuning.h"
#include "core/progress.h"
#include "seer/build_info.h"

namespace {

/// A misspelt (sub)command gets a suggestion instead of CLI11's generic message. Walks the command
/// path given on the command line; returns false (after printing) on the first unknown name.
bool check_command_names(const CLI::App& app, int argc, char** argv) {
  const CLI::App* current = &app;
  std::string path = "seer";
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-') continue;  // options (and their values) are CLI11's business
    std::vector<std::string> names;
    for (const CLI::App* sub : current->get_subcommands({})) names.push_back(sub->get_name());
    if (names.empty()) return true;
    auto it = std::find(names.begin(), names.end(), word);
    if (it == names.end()) {
      if (current->get_require_subcommand_min() == 0) return true;  // a positional argument
      const std::string near = seer::closest_match(word, names);
      std::fprintf(stderr, "%s: unknown command '%s'%s; run '%s --help' for the list\n", path.c_str(), word.c_str(),
                   near.empty() ? "" : (" (did you mean '" + near + "'?)").c_str(), path.c_str());
      return false;
    }
    current = current->get_subcommand(word);
    path += " " + word;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace seer::app;
  seer::tune_malloc_for_tensors();  // before any thread or tensor (core/malloc_tuning.h)
  ensure_openblas_kernel(argv);  // may re-execute this program with OPENBLAS_CORETYPE set (app/blas_runtime.h)
  Invocation inv;
  // Progress lines (core/progress.h) when stdout is a terminal; SEER_PROGRESS=1 / 0 forces them on / off.
  const char* progress = std::getenv("SEER_PROGRESS");
  seer::set_progress_enabled(progress != nullptr && *progress != '\0' ? std::string(progress) != "0"
                                                                       : isatty(STDOUT_FILENO) == 1);
  CLI::App app{"seer: train vision-language models into visual reasoning models (SFT + GRPO)", "seer"};
  app.require_subcommand(1, 1);
  app.failure_message(CLI::FailureMessage::help);
  app.set_version_flag("--version", std::string("seer ") + seer::build::kVersion);
  app.add_option("--log-level", inv.log_level, "trace | debug | info | warn | error | off (default: the config's)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  add_config_command(app, inv);
  add_version_command(app, inv);
  add_reward_command(app, inv);
  add_init_model_command(app, inv);
  add_data_command(app, inv);
  add_train_command(app, inv);
  add_eval_command(app, inv);
  add_generate_command(app, inv);
  add_report_command(app, inv);
  add_export_command(app, inv);
  add_doctor_command(app, inv);
  add_rollout_command(app, inv);
  add_run_command(app, inv);
  add_check_command(app, inv);

  if (!check_command_names(app, argc, argv)) return kExitUnavailable;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help / version / the error
    return code == 0 ? 0 : kExitUnavailable;
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
