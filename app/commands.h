// The `seer` subcommands: each app/cmd_*.cpp registers one (or a family) on the CLI11 app.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace seer::app {

/// Shared state of one `seer` invocation: global options and the exit status a command sets.
struct Invocation {
  std::string log_level;  ///< --log-level; "" = from the config (or info).
  int exit_code = 0;
};

void add_config_command(CLI::App& app, Invocation& inv);   // app/cmd_config.cpp
void add_version_command(CLI::App& app, Invocation& inv);  // app/cmd_version.cpp
void add_reward_command(CLI::App& app, Invocation& inv);   // app/cmd_reward.cpp
void add_init_model_command(CLI::App& app, Invocation& inv);  // app/cmd_init_model.cpp
void add_data_command(CLI::App& app, Invocation& inv);        // app/cmd_data.cpp
void add_train_command(CLI::App& app, Invocation& inv);       // app/cmd_train.cpp
void add_eval_command(CLI::App& app, Invocation& inv);        // app/cmd_eval.cpp
void add_doctor_command(CLI::App& app, Invocation& inv);      // app/cmd_doctor.cpp
void add_rollout_command(CLI::App& app, Invocation& inv);     // app/cmd_rollout.cpp
void add_run_command(CLI::App& app, Invocation& inv);         // app/cmd_run.cpp
void add_check_command(CLI::App& app, Invocation& inv);       // app/cmd_check.cpp
void add_generate_command(CLI::App& app, Invocation& inv);    // app/cmd_generate.cpp
void add_report_command(CLI::App& app, Invocation& inv);      // app/cmd_report.cpp
void add_export_command(CLI::App& app, Invocation& inv);      // app/cmd_export.cpp

/// What `seer train` and `seer run` both take: the experiment config, --set overrides and the exclusive
/// --resume / --no-resume flags.
struct ExperimentArgs {
  std::string config;
  std::vector<std::string> overrides;
  bool resume = false, no_resume = false;
  bool no_preflight = false;  ///< skip the automatic preflight (app/preflight.h)
  /// `overrides` plus what the resume flags mean as config keys (checkpoint.resume).
  std::vector<std::string> overrides_with_resume() const {
    std::vector<std::string> out = overrides;
    if (no_resume) out.push_back("checkpoint.resume=never");
    if (resume) out.push_back("checkpoint.resume=required");
    return out;
  }
};

/// Registers ExperimentArgs' positional config, --set, --resume and --no-resume on `cmd`.
inline void add_experiment_args(CLI::App* cmd, ExperimentArgs& args) {
  cmd->add_option("config", args.config, "experiment config (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", args.overrides, "override a config key: section.key=value (repeatable)");
  CLI::Option* resume =
      cmd->add_flag("--resume", args.resume, "continue from the newest intact checkpoint; fail if there is none");
  CLI::Option* no_resume = cmd->add_flag("--no-resume", args.no_resume, "start fresh even if the run folder has checkpoints");
  resume->excludes(no_resume);
  cmd->add_flag("--no-preflight", args.no_preflight,
                "skip the checks of model, data, addresses and folders made before anything starts (seer check)");
}

/// Exit status for "not available in this build" and command-line usage errors.
inline constexpr int kExitUnavailable = 2;
/// Exit status for a rejected config or input.
inline constexpr int kExitBadInput = 1;

}  // namespace seer::app
