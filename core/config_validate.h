// Rules that involve more than one key (or a key's format beyond its type and range).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/config_schema.h"

namespace seer {

/// Every cross-field problem of `config`. `where(path)` gives the position to report for a key (its
/// place in the file, the --set that set it, or the file name when it kept its default).
std::vector<ConfigIssue> validate_config(const ExperimentConfig& config,
                                         const std::function<std::string(std::string_view)>& where);

}  // namespace seer
