// The config schema: one FieldSpec per settable key ("trainer.lr"), bound to a field of an
// ExperimentConfig, with its kind, range or choices and one line of help. Loading, overrides,
// validation and printing all walk this one list, so a key cannot be parsed but not printed.
#pragma once

#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"

namespace seer {

/// One problem found in a config. `where` is "FILE:LINE:COL" (1-based), "FILE" when the problem has no
/// position (a cross-field rule on defaults), or "--set KEY=VALUE" for a command-line override.
struct ConfigIssue {
  std::string where;
  std::string message;
  int line = 0;    ///< 1-based line of `where` in the file; 0 when the issue has no file position
  int column = 0;  ///< 1-based column
  std::string to_string() const { return where + ": " + message; }
};

/// Thrown by load_config with every problem found (never just the first). what() lists them one per line.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<ConfigIssue> issues);
  const std::vector<ConfigIssue>& issues() const { return issues_; }

 private:
  std::vector<ConfigIssue> issues_;
};

/// Numeric range of an int or double field; open ends exclude the bound.
struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;
  bool hi_open = false;

  static Range any() { return {}; }
  static Range at_least(double lo) { return {lo, std::numeric_limits<double>::infinity(), false, false}; }
  static Range greater_than(double lo) { return {lo, std::numeric_limits<double>::infinity(), true, false}; }
  static Range closed(double lo, double hi) { return {lo, hi, false, false}; }
  static Range half_open(double lo, double hi) { return {lo, hi, false, true}; }  ///< [lo, hi)
  static Range left_open(double lo, double hi) { return {lo, hi, true, false}; }  ///< (lo, hi]

  bool contains(double v) const;
  /// Human description, e.g. "> 0", "in [0, 1)", "any value".
  std::string describe(bool integer) const;
};

enum class FieldKind { kString, kInt, kDouble, kBool, kChoice, kStringList, kDoubleMap };

struct FieldSpec {
  std::string path;                   ///< "section.key" or a top-level "key".
  FieldKind kind = FieldKind::kString;
  void* target = nullptr;             ///< Points into the bound ExperimentConfig; type follows `kind`.
  Range range;                        ///< kInt, kDouble, and the values of kDoubleMap.
  std::vector<std::string> choices;   ///< kChoice: allowed values; kDoubleMap: allowed keys.
  std::string help;

  std::string section() const;        ///< "trainer" for "trainer.lr", "" for top-level keys.
  std::string key() const;            ///< "lr" for "trainer.lr".
  /// What a value must be, for error messages: "a number > 0", "one of: fail, skip", ...
  std::string expected() const;
};

/// All settable keys of an ExperimentConfig, bound to one instance (which must outlive the schema).
/// Not copyable: the specs point into the bound config.
class ConfigSchema {
 public:
  explicit ConfigSchema(ExperimentConfig& config);  // the key list lives in core/config_fields.cpp
  ConfigSchema(const ConfigSchema&) = delete;
  ConfigSchema& operator=(const ConfigSchema&) = delete;

  const std::vector<FieldSpec>& fields() const { return fields_; }
  /// The spec for a full path, or nullptr.
  const FieldSpec* find(std::string_view path) const;
  /// Section names in declaration order.
  const std::vector<std::string>& sections() const { return sections_; }
  bool is_section(std::string_view name) const;
  /// Keys directly under `section` ("" for top-level keys, which also lists section names).
  std::vector<std::string> keys_in(std::string_view section) const;
  /// "did you mean" text for an unknown key: a close sibling, else the same key in another section,
  /// else "" . Returns e.g. "lr_schedule" or "rollout.group_size".
  std::string suggest(std::string_view section, std::string_view key) const;

 private:
  friend class SchemaBuilder;
  std::vector<FieldSpec> fields_;
  std::vector<std::string> sections_;
};

/// Used by core/config_fields.cpp to declare keys section by section.
class SchemaBuilder {
 public:
  SchemaBuilder(ConfigSchema& schema, std::string section);
  void text(const char* key, std::string* v, const char* help);
  void integer(const char* key, int64_t* v, Range range, const char* help);
  void number(const char* key, double* v, Range range, const char* help);
  void flag(const char* key, bool* v, const char* help);
  void choice(const char* key, std::string* v, std::vector<std::string> choices, const char* help);
  void text_list(const char* key, std::vector<std::string>* v, const char* help);
  void number_map(const char* key, std::map<std::string, double>* v, std::vector<std::string> keys, Range range,
                  const char* help);

 private:
  FieldSpec& add(const char* key, FieldKind kind, void* target, const char* help);
  ConfigSchema& schema_;
  std::string section_;
};

}  // namespace seer
