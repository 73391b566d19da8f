#include "core/config_schema.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/did_you_mean.h"

namespace seer {
namespace {

std::string join_issues(const std::vector<ConfigIssue>& issues) {
  std::string out;
  for (const auto& i : issues) {
    if (!out.empty()) out += '\n';
    out += i.to_string();
  }
  return out;
}

std::string format_bound(double v, bool integer) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return integer ? fmt::format("{}", static_cast<long long>(v)) : fmt::format("{}", v);
}

}  // namespace

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : std::runtime_error(join_issues(issues)), issues_(std::move(issues)) {}

bool Range::contains(double v) const {
  if (std::isnan(v)) return false;
  if (lo_open ? !(v > lo) : !(v >= lo)) return false;
  if (hi_open ? !(v < hi) : !(v <= hi)) return false;
  return true;
}

std::string Range::describe(bool integer) const {
  const bool has_lo = !std::isinf(lo), has_hi = !std::isinf(hi);
  if (!has_lo && !has_hi) return "";
  if (has_lo && !has_hi) return fmt::format("{} {}", lo_open ? ">" : ">=", format_bound(lo, integer));
  if (!has_lo) return fmt::format("{} {}", hi_open ? "<" : "<=", format_bound(hi, integer));
  return fmt::format("in {}{}, {}{}", lo_open ? '(' : '[', format_bound(lo, integer), format_bound(hi, integer),
                     hi_open ? ')' : ']');
}

std::string FieldSpec::section() const {
  const auto dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(0, dot);
}

std::string FieldSpec::key() const {
  const auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

std::string FieldSpec::expected() const {
  auto with_range = [&](const char* what, bool integer) {
    const std::string r = range.describe(integer);
    return r.empty() ? std::string(what) : fmt::format("{} {}", what, r);
  };
  switch (kind) {
    case FieldKind::kString: return "a string";
    case FieldKind::kInt: return with_range("an integer", true);
    case FieldKind::kDouble: return with_range("a number", false);
    case FieldKind::kBool: return "a boolean (true or false)";
    case FieldKind::kChoice: return fmt::format("one of: {}", fmt::join(choices, ", "));
    case FieldKind::kStringList: return "a list of strings";
    case FieldKind::kDoubleMap:
      return fmt::format("a mapping from {{{}}} to numbers{}", fmt::join(choices, ", "),
                         range.describe(false).empty() ? "" : " " + range.describe(false));
  }
  return "a value";
}

const FieldSpec* ConfigSchema::find(std::string_view path) const {
  for (const auto& f : fields_) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

bool ConfigSchema::is_section(std::string_view name) const {
  return std::find(sections_.begin(), sections_.end(), name) != sections_.end();
}

std::vector<std::string> ConfigSchema::keys_in(std::string_view section) const {
  std::vector<std::string> keys;
  for (const auto& f : fields_) {
    if (f.section() == section) keys.push_back(f.key());
  }
  // Sections directly under `section` ("model.lora" is listed under "model", "model" under the top level).
  for (const std::string& sub : sections_) {
    const auto dot = sub.rfind('.');
    if ((dot == std::string::npos ? std::string() : sub.substr(0, dot)) == section) {
      keys.push_back(dot == std::string::npos ? sub : sub.substr(dot + 1));
    }
  }
  return keys;
}

std::string ConfigSchema::suggest(std::string_view section, std::string_view key) const {
  std::string near = closest_match(key, keys_in(section));
  if (!near.empty()) return near;
  // The right key in the wrong section ("trainer.group_size" -> "rollout.group_size").
  for (const auto& f : fields_) {
    if (f.key() == key && f.section() != section) return f.path;
  }
  return "";
}

SchemaBuilder::SchemaBuilder(ConfigSchema& schema, std::string section)
    : schema_(schema), section_(std::move(section)) {
  if (!section_.empty() && !schema_.is_section(section_)) schema_.sections_.push_back(section_);
}

FieldSpec& SchemaBuilder::add(const char* key, FieldKind kind, void* target, const char* help) {
  FieldSpec spec;
  spec.path = section_.empty() ? std::string(key) : section_ + "." + key;
  spec.kind = kind;
  spec.target = target;
  spec.help = help;
  schema_.fields_.push_back(std::move(spec));
  return schema_.fields_.back();
}

void SchemaBuilder::text(const char* key, std::string* v, const char* help) { add(key, FieldKind::kString, v, help); }

void SchemaBuilder::integer(const char* key, int64_t* v, Range range, const char* help) {
  add(key, FieldKind::kInt, v, help).range = range;
}

void SchemaBuilder::number(const char* key, double* v, Range range, const char* help) {
  add(key, FieldKind::kDouble, v, help).range = range;
}

void SchemaBuilder::flag(const char* key, bool* v, const char* help) { add(key, FieldKind::kBool, v, help); }

void SchemaBuilder::choice(const char* key, std::string* v, std::vector<std::string> choices, const char* help) {
  add(key, FieldKind::kChoice, v, help).choices = std::move(choices);
}

void SchemaBuilder::text_list(const char* key, std::vector<std::string>* v, const char* help) {
  add(key, FieldKind::kStringList, v, help);
}

void SchemaBuilder::number_map(const char* key, std::map<std::string, double>* v, std::vector<std::string> keys,
                               Range range, const char* help) {
  FieldSpec& f = add(key, FieldKind::kDoubleMap, v, help);
  f.choices = std::move(keys);
  f.range = range;
}

}  // namespace seer
