#include "core/config_load.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/atomic_file.h"
#include "core/check.h"
#include "core/config_validate.h"
#include "core/did_you_mean.h"

namespace seer {
namespace {

std::string position(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file;
  return fmt::format("{}:{}:{}", file, mark.line + 1, mark.column + 1);
}

std::string shown(const YAML::Node& node) {
  if (node.IsScalar()) return fmt::format("'{}'", node.Scalar());
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "nothing";
}

/// Collects issues and the position each key was last set at while a config is being built.
class Loader {
 public:
  Loader(ExperimentConfig& config, std::string file) : schema_(config), file_(std::move(file)) {}

  void load_document(const YAML::Node& root);
  void apply_override(const std::string& text);
  void validate(const ExperimentConfig& config) {
    auto issues = validate_config(config, [&](std::string_view path) {
      auto it = set_at_.find(std::string(path));
      return it == set_at_.end() ? file_ : it->second;
    });
    issues_.insert(issues_.end(), issues.begin(), issues.end());
  }
  void issue(std::string where, std::string message) { issues_.push_back({std::move(where), std::move(message)}); }
  void throw_if_any() const {
    if (!issues_.empty()) throw ConfigError(issues_);
  }

 private:
  void load_section(const std::string& section, const YAML::Node& node);
  void unknown_key(const std::string& section, const std::string& key, const std::string& where);
  /// Stores `value` into the field; returns the problem (without position) if it does not fit.
  std::optional<std::string> assign(const FieldSpec& spec, const YAML::Node& value);
  /// Reports duplicated keys of a mapping (yaml-cpp keeps the first silently).
  void check_duplicates(const YAML::Node& map, const std::string& section);
  /// Where a value's problem is reported: the value, or its key when the value is missing.
  template <class KeyValue>
  std::string value_position(const KeyValue& kv) const {
    return position(file_, kv.second.IsNull() ? kv.first.Mark() : kv.second.Mark());
  }

  ConfigSchema schema_;
  std::string file_;
  std::vector<ConfigIssue> issues_;
  std::map<std::string, std::string> set_at_;
};

void Loader::check_duplicates(const YAML::Node& map, const std::string& section) {
  std::map<std::string, YAML::Mark> seen;
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    auto [it, fresh] = seen.emplace(key, kv.first.Mark());
    if (!fresh) {
      const std::string path = section.empty() ? key : section + "." + key;
      issue(position(file_, kv.first.Mark()),
            fmt::format("duplicate key '{}' (first set at line {})", path, it->second.line + 1));
    }
  }
}

void Loader::load_document(const YAML::Node& root) {
  if (!root || root.IsNull()) return;  // empty file: all defaults
  if (!root.IsMap()) {
    issue(position(file_, root.Mark()), fmt::format("the config must be a mapping of sections, got {}", shown(root)));
    return;
  }
  check_duplicates(root, "");
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const std::string where = position(file_, kv.first.Mark());
    if (schema_.is_section(key)) {
      load_section(key, kv.second);
    } else if (const FieldSpec* spec = schema_.find(key)) {
      if (auto problem = assign(*spec, kv.second)) {
        issue(value_position(kv), *problem);
      } else {
        set_at_[spec->path] = where;
      }
    } else {
      unknown_key("", key, where);
    }
  }
}

void Loader::load_section(const std::string& section, const YAML::Node& node) {
  if (node.IsNull()) return;  // "trainer:" with nothing under it: defaults
  if (!node.IsMap()) {
    issue(position(file_, node.Mark()),
          fmt::format("section '{}' must be a mapping of keys, got {}", section, shown(node)));
    return;
  }
  check_duplicates(node, section);
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const std::string where = position(file_, kv.first.Mark());
    const FieldSpec* spec = schema_.find(section + "." + key);
    if (spec == nullptr) {
      unknown_key(section, key, where);
      continue;
    }
    if (auto problem = assign(*spec, kv.second)) {
      issue(value_position(kv), *problem);
    } else {
      set_at_[spec->path] = where;
    }
  }
}

void Loader::unknown_key(const std::string& section, const std::string& key, const std::string& where) {
  const std::string path = section.empty() ? key : section + "." + key;
  const std::string near = schema_.suggest(section, key);
  issue(where, near.empty() ? fmt::format("unknown key '{}'", path)
                            : fmt::format("unknown key '{}' (did you mean '{}'?)", path, near));
}

std::optional<std::string> Loader::assign(const FieldSpec& spec, const YAML::Node& value) {
  auto wrong = [&](const YAML::Node& v) {
    return fmt::format("{}: expected {}, got {}", spec.path, spec.expected(), shown(v));
  };
  if (value.IsNull() && spec.kind != FieldKind::kString && spec.kind != FieldKind::kStringList) {
    return fmt::format("{}: missing value, expected {}", spec.path, spec.expected());
  }
  if (!value.IsScalar() && spec.kind != FieldKind::kStringList && spec.kind != FieldKind::kDoubleMap &&
      !value.IsNull()) {
    return wrong(value);
  }
  try {
    switch (spec.kind) {
      case FieldKind::kString:
        *static_cast<std::string*>(spec.target) = value.IsNull() ? "" : value.Scalar();
        return std::nullopt;
      case FieldKind::kBool:
        *static_cast<bool*>(spec.target) = value.as<bool>();
        return std::nullopt;
      case FieldKind::kChoice: {
        const std::string v = value.Scalar();
        if (std::find(spec.choices.begin(), spec.choices.end(), v) == spec.choices.end()) {
          const std::string near = closest_match(v, spec.choices);
          return fmt::format("{}: '{}' is not {}{}", spec.path, v, spec.expected(),
                             near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near));
        }
        *static_cast<std::string*>(spec.target) = v;
        return std::nullopt;
      }
      case FieldKind::kStringList: {
        std::vector<std::string> out;
        if (value.IsSequence()) {
          for (const auto& item : value) {
            if (!item.IsScalar()) return wrong(value);
            out.push_back(item.Scalar());
          }
        } else if (!value.IsNull()) {
          return wrong(value);
        }
        *static_cast<std::vector<std::string>*>(spec.target) = std::move(out);
        return std::nullopt;
      }
      case FieldKind::kDoubleMap: {
        if (!value.IsMap()) return wrong(value);
        auto& out = *static_cast<std::map<std::string, double>*>(spec.target);
        std::map<std::string, double> next = out;
        for (const auto& kv : value) {
          const std::string key = kv.first.Scalar();
          if (std::find(spec.choices.begin(), spec.choices.end(), key) == spec.choices.end()) {
            const std::string near = closest_match(key, spec.choices);
            return fmt::format("{}: unknown component '{}'{}; known: {}", spec.path, key,
                               near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near),
                               fmt::join(spec.choices, ", "));
          }
          double w = 0;
          if (!kv.second.IsScalar() || !YAML::convert<double>::decode(kv.second, w) || !spec.range.contains(w)) {
            return fmt::format("{}.{}: expected a number{}, got {}", spec.path, key,
                               spec.range.describe(false).empty() ? "" : " " + spec.range.describe(false),
                               shown(kv.second));
          }
          next[key] = w;
        }
        out = std::move(next);
        return std::nullopt;
      }
      case FieldKind::kInt:
      case FieldKind::kDouble:
        break;
    }
  } catch (const YAML::Exception&) {
    return wrong(value);
  }
  double v = 0;
  if (spec.kind == FieldKind::kInt) {
    int64_t i = 0;
    if (!YAML::convert<int64_t>::decode(value, i)) {
      // "1e3" or "2.0" for an integer: accept only when it is a whole number.
      double d = 0;
      if (!YAML::convert<double>::decode(value, d) || std::trunc(d) != d || std::fabs(d) > 9.0e15) return wrong(value);
      i = static_cast<int64_t>(d);
    }
    v = static_cast<double>(i);
    if (!spec.range.contains(v)) {
      return fmt::format("{}: {} is out of range, expected {}", spec.path, value.Scalar(), spec.expected());
    }
    *static_cast<int64_t*>(spec.target) = i;
  } else {
    if (!YAML::convert<double>::decode(value, v)) return wrong(value);
    if (!spec.range.contains(v)) {
      return fmt::format("{}: {} is out of range, expected {}", spec.path, value.Scalar(), spec.expected());
    }
    *static_cast<double*>(spec.target) = v;
  }
  return std::nullopt;
}

void Loader::apply_override(const std::string& text) {
  const std::string where = "--set " + text;
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    issue(where, "an override must look like KEY=VALUE (e.g. --set trainer.lr=1e-6)");
    return;
  }
  const std::string path = text.substr(0, eq);
  const std::string raw = text.substr(eq + 1);
  const FieldSpec* spec = schema_.find(path);
  if (spec == nullptr) {
    if (schema_.is_section(path)) {
      issue(where, fmt::format("'{}' is a section; set one of its keys, e.g. {}.{}", path, path,
                               schema_.keys_in(path).front()));
      return;
    }
    const auto dot = path.find('.');
    const std::string section = dot == std::string::npos ? "" : path.substr(0, dot);
    if (!section.empty() && !schema_.is_section(section)) {
      const std::string near = closest_match(section, schema_.sections());
      issue(where, fmt::format("unknown section '{}'{}", section,
                               near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
      return;
    }
    unknown_key(section, dot == std::string::npos ? path : path.substr(dot + 1), where);
    return;
  }
  YAML::Node value;
  try {
    value = raw.empty() ? YAML::Node(YAML::NodeType::Null) : YAML::Load(raw);
  } catch (const YAML::Exception& e) {
    issue(where, fmt::format("{}: cannot parse value '{}' as YAML: {}", path, raw, e.msg));
    return;
  }
  if (auto problem = assign(*spec, value)) {
    issue(where, *problem);
  } else {
    set_at_[path] = where;
  }
}

ExperimentConfig load(std::string_view text, const std::string& name, const std::vector<std::string>& overrides,
                      bool from_file) {
  ExperimentConfig config;
  Loader loader(config, name);
  if (from_file) {
    YAML::Node root;
    bool parsed = true;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::ParserException& e) {
      loader.issue(position(name, e.mark), "malformed YAML: " + e.msg);
      parsed = false;
    }
    if (parsed) loader.load_document(root);
    loader.throw_if_any();  // a broken file makes cross-field messages meaningless
  }
  for (const auto& o : overrides) loader.apply_override(o);
  loader.throw_if_any();
  loader.validate(config);
  loader.throw_if_any();
  return config;
}

void emit_value(YAML::Emitter& out, const FieldSpec& spec) {
  switch (spec.kind) {
    case FieldKind::kString:
    case FieldKind::kChoice:
      out << *static_cast<const std::string*>(spec.target);
      break;
    case FieldKind::kInt:
      out << *static_cast<const int64_t*>(spec.target);
      break;
    case FieldKind::kBool:
      out << (*static_cast<const bool*>(spec.target) ? "true" : "false");
      break;
    case FieldKind::kDouble: {
      // Shortest text that reads back as the same double; keep it recognisably a float.
      std::string s = fmt::format("{}", *static_cast<const double*>(spec.target));
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
      out << s;
      break;
    }
    case FieldKind::kStringList:
      out << YAML::Flow << YAML::BeginSeq;
      for (const auto& s : *static_cast<const std::vector<std::string>*>(spec.target)) out << YAML::DoubleQuoted << s;
      out << YAML::EndSeq;
      break;
    case FieldKind::kDoubleMap:
      out << YAML::Flow << YAML::BeginMap;
      for (const auto& [k, v] : *static_cast<const std::map<std::string, double>*>(spec.target)) {
        out << YAML::Key << k << YAML::Value << fmt::format("{}", v);
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace

ExperimentConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({{path, fmt::format("cannot open config file: {}", std::strerror(errno))}});
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw ConfigError({{path, fmt::format("cannot read config file: {}", std::strerror(errno))}});
  return load(ss.str(), path, overrides, true);
}

ExperimentConfig load_config_text(std::string_view yaml, const std::string& name,
                                  const std::vector<std::string>& overrides) {
  return load(yaml, name, overrides, true);
}

ExperimentConfig default_config(const std::vector<std::string>& overrides) {
  return load("", "<defaults>", overrides, false);
}

std::string config_to_yaml(const ExperimentConfig& config) {
  ExperimentConfig copy = config;  // the schema binds mutable pointers; print from a copy
  ConfigSchema schema(copy);
  YAML::Emitter out;
  out << YAML::BeginMap;
  std::string open_section;
  for (const FieldSpec& spec : schema.fields()) {
    const std::string section = spec.section();
    if (section != open_section) {
      if (!open_section.empty()) out << YAML::EndMap;
      out << YAML::Key << section << YAML::Value << YAML::BeginMap;
      open_section = section;
    }
    out << YAML::Key << spec.key() << YAML::Value;
    emit_value(out, spec);
    out << YAML::Comment(spec.help);
  }
  if (!open_section.empty()) out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

void write_resolved_config(const ExperimentConfig& config, const std::string& run_dir) {
  write_file_atomic(run_dir + "/config.yaml", config_to_yaml(config));
}

}  // namespace seer
