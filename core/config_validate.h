// Rules that involve more than one key (or a key's format beyond its type and range).
#pragma once

#include <initializer_list>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/config_schema.h"

namespace seer {

/// What the loader knows about each key while the rules run.
class KeyOrigins {
 public:
  virtual ~KeyOrigins() = default;
  /// True when the key's own value was rejected: rules involving it are skipped (its value is a default
  /// the user did not write, so a rule about it would mislead).
  virtual bool failed(std::string_view path) const = 0;
  /// Where to report a problem about `paths`: the latest --set of any of them, else the file position of
  /// the first one the file sets, else the file itself. The message is left empty.
  virtual ConfigIssue locate(std::initializer_list<std::string_view> paths) const = 0;
};

/// Every cross-field problem of `config`.
std::vector<ConfigIssue> validate_config(const ExperimentConfig& config, const KeyOrigins& origins);

}  // namespace seer
