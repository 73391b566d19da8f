// Loading the experiment config: YAML file + `--set key=value` overrides -> a validated ExperimentConfig,
// and printing it back as YAML. All problems are collected and thrown together as one ConfigError.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/config_schema.h"

namespace seer {

/// Reads `path`, applies `overrides` ("trainer.lr=2e-6", each value parsed as YAML and typed like the
/// file's), then checks ranges and cross-field rules. Throws ConfigError listing every problem as
/// "FILE:LINE:COL: message" (unknown keys with a suggestion, wrong types, out-of-range values, cross-field
/// rules, malformed YAML, a missing file). Thread-safe.
ExperimentConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});

/// As load_config, from YAML text; `name` is used as FILE in messages.
ExperimentConfig load_config_text(std::string_view yaml, const std::string& name,
                                  const std::vector<std::string>& overrides = {});

/// The defaults with `overrides` applied and validated (no file).
ExperimentConfig default_config(const std::vector<std::string>& overrides = {});

/// The config as YAML, every key in schema order with its help as a comment. load_config_text of the
/// result gives back an equal config.
std::string config_to_yaml(const ExperimentConfig& config);

/// Writes config_to_yaml(config) to RUN_DIR/config.yaml (temp file, then rename). Throws seer::Error.
void write_resolved_config(const ExperimentConfig& config, const std::string& run_dir);

}  // namespace seer
