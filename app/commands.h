// The `seer` subcommands: each app/cmd_*.cpp registers one (or a family) on the CLI11 app.
#pragma once

#include <string>

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

/// Exit status for "not available in this build" and command-line usage errors.
inline constexpr int kExitUnavailable = 2;
/// Exit status for a rejected config or input.
inline constexpr int kExitBadInput = 1;

}  // namespace seer::app
