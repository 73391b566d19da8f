#include "core/config_load.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "core/atomic_file.h"
#include "core/check.h"
#include "core/config_validate.h"
#include "core/did_you_mean.h"

namespace seer {
namespace {

/// Printable form of a parser message: control and non-ASCII bytes as \xNN.
std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else out += fmt::format("\\x{:02x}", c);
  }
  return out;
}

std::string shown(const YAML::Node& node) {
  if (node.IsScalar()) return fmt::format("'{}'", printable(node.Scalar().substr(0, 80)));
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "nothing";
}

/// Where each key got its value, for positions of cross-field problems.
struct Origin {
  std::string where;
  int line = 0, column = 0;
  int override_index = -1;  ///< >= 0 when set by the n-th --set
};

/// Builds one config from a file and overrides, collecting every problem.
class Loader : public KeyOrigins {
 public:
  Loader(ExperimentConfig& config, std::string file) : schema_(config), file_(std::move(file)) {}

  void load_text(std::string_view text);
  void apply_override(const std::string& text, int index);
  void validate(const ExperimentConfig& config) {
    auto issues = validate_config(config, *this);
    issues_.insert(issues_.end(), issues.begin(), issues.end());
  }
  void issue(ConfigIssue i) { issues_.push_back(std::move(i)); }
  /// Throws every issue, file positions first in file order, then position-less ones, then overrides.
  void throw_if_any() {
    if (issues_.empty()) return;
    auto rank = [](const ConfigIssue& i) { return i.line > 0 ? 0 : (i.where.rfind("--set ", 0) == 0 ? 2 : 1); };
    std::stable_sort(issues_.begin(), issues_.end(), [&](const ConfigIssue& a, const ConfigIssue& b) {
      if (rank(a) != rank(b)) return rank(a) < rank(b);
      if (rank(a) != 0) return false;
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    throw ConfigError(issues_);
  }
  bool file_ok() const { return file_ok_; }

  bool failed(std::string_view path) const override { return failed_.count(std::string(path)) != 0; }
  ConfigIssue locate(std::initializer_list<std::string_view> paths) const override;

 private:
  ConfigIssue at(const YAML::Mark& mark, std::string message) const {
    if (mark.is_null()) return {file_, std::move(message)};
    return {fmt::format("{}:{}:{}", file_, mark.line + 1, mark.column + 1), std::move(message), mark.line + 1,
            mark.column + 1};
  }
  void load_document(const YAML::Node& root);
  void load_map(const std::string& section, const YAML::Node& map);
  void set_from_file(const FieldSpec& spec, const YAML::Node& key, const YAML::Node& value);
  void unknown_key(const std::string& section, const std::string& key, ConfigIssue where);
  std::string parse_error_hint(std::string_view text, const YAML::ParserException& e) const;
  /// Stores `value` into the field; returns the problem (without position) if it does not fit.
  std::optional<std::string> assign(const FieldSpec& spec, const YAML::Node& value);

  ConfigSchema schema_;
  std::string file_;
  bool file_ok_ = true;
  std::vector<ConfigIssue> issues_;
  std::map<std::string, Origin> origin_;
  std::set<std::string> failed_;
};

ConfigIssue Loader::locate(std::initializer_list<std::string_view> paths) const {
  const Origin* best = nullptr;
  for (auto p : paths) {
    auto it = origin_.find(std::string(p));
    if (it == origin_.end()) continue;
    const Origin& o = it->second;
    if (o.override_index >= 0 && (best == nullptr || o.override_index > best->override_index)) best = &o;
  }
  if (best == nullptr) {
    for (auto p : paths) {
      auto it = origin_.find(std::string(p));
      if (it != origin_.end()) {
        best = &it->second;
        break;
      }
    }
  }
  if (best == nullptr) return {file_, ""};
  return {best->where, "", best->line, best->column};
}

std::string Loader::parse_error_hint(std::string_view text, const YAML::ParserException& e) const {
  // Tabs in indentation are the most common cause of "illegal map value" and friends.
  size_t line_start = 0;
  for (int line = 0; line < e.mark.line && line_start != std::string_view::npos; ++line) {
    line_start = text.find('\n', line_start);
    if (line_start != std::string_view::npos) ++line_start;
  }
  for (int back = 0; back < 2 && line_start != std::string_view::npos && line_start < text.size(); ++back) {
    size_t i = line_start;
    while (i < text.size() && text[i] == ' ') ++i;
    if (i < text.size() && text[i] == '\t') return " (a tab indents this line; YAML indents with spaces only)";
    if (line_start == 0) break;
    line_start = text.rfind('\n', line_start - 2);
    line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  }
  // An unclosed flow collection: name where it was opened.
  if (e.msg.find("flow not found") != std::string::npos) {
    std::vector<std::pair<char, size_t>> open;
    const size_t end = std::min<size_t>(text.size(), e.mark.pos < 0 ? text.size() : static_cast<size_t>(e.mark.pos));
    char quote = 0;
    for (size_t i = 0; i < end; ++i) {
      const char c = text[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '#') {
        while (i < end && text[i] != '\n') ++i;
      } else if (c == '[' || c == '{') {
        open.emplace_back(c, i);
      } else if ((c == ']' || c == '}') && !open.empty()) {
        open.pop_back();
      }
    }
    if (!open.empty()) {
      const size_t pos = open.back().second;
      const size_t nl = text.rfind('\n', pos == 0 ? 0 : pos - 1);
      const size_t col = nl == std::string_view::npos || pos == 0 ? pos + 1 : pos - nl;
      const int line = static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n')) + 1;
      return fmt::format(" (the '{}' opened at {}:{} is never closed)", open.back().first, line, col);
    }
  }
  return "";
}

/// Counts the YAML documents of a stream (at most `limit`) and where each starts. yaml-cpp 0.7's LoadAll never
/// returns on some malformed input (a lone ',' yields empty documents forever, allocating until memory runs
/// out: found by scripts/fuzz.sh config), so documents are counted with a bounded parser loop first.
class DocumentCounter : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

void Loader::load_text(std::string_view text) {
  const std::string yaml(text);
  YAML::Node doc;
  DocumentCounter counter;
  try {
    std::istringstream in(yaml);
    YAML::Parser parser(in);
    while (counter.starts.size() < 2 && parser.HandleNextDocument(counter)) {
    }
    if (counter.starts.empty()) return;  // an empty file: all defaults
    doc = YAML::Load(yaml);              // the first document only
  } catch (const YAML::ParserException& e) {
    issue(at(e.mark, "malformed YAML: " + printable(e.msg) + parse_error_hint(text, e)));
    file_ok_ = false;
    return;
  }
  if (counter.starts.size() > 1) {
    if (counter.starts[1].pos <= counter.starts[0].pos) {  // no progress: the parser is stuck (see DocumentCounter)
      issue(at(counter.starts[1], "malformed YAML: the parser cannot read past this point"));
      file_ok_ = false;
      return;
    }
    issue(at(counter.starts[1], "a config holds one YAML document; this file has a second one (after '---')"));
  }
  try {
    load_document(doc);
  } catch (const YAML::Exception& e) {  // defensive: any yaml-cpp surprise becomes an issue, not a crash
    issue(at(e.mark, "cannot read this value: " + printable(e.msg)));
    file_ok_ = false;
  }
}

void Loader::load_document(const YAML::Node& root) {
  if (!root || root.IsNull()) return;  // empty file: all defaults
  if (!root.IsMap()) {
    issue(at(root.Mark(), fmt::format("the config must be a mapping of sections, got {}", shown(root))));
    file_ok_ = false;
    return;
  }
  load_map("", root);
}

void Loader::load_map(const std::string& section, const YAML::Node& map) {
  std::map<std::string, int> seen;  // key -> line first set
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) {
      issue(at(kv.first.Mark(), fmt::format("keys must be plain names, got {}", shown(kv.first))));
      continue;
    }
    const std::string key = kv.first.Scalar();
    const std::string path = section.empty() ? key : section + "." + key;
    auto [first, fresh] = seen.emplace(key, kv.first.Mark().line + 1);
    if (!fresh) {
      issue(at(kv.first.Mark(), fmt::format("duplicate key '{}' (first set at line {})", path, first->second)));
      continue;
    }
    if (schema_.is_section(path)) {
      if (kv.second.IsNull()) continue;  // "trainer:" with nothing under it: defaults
      if (!kv.second.IsMap()) {
        issue(at(kv.second.Mark(),
                 fmt::format("section '{}' must be a mapping of keys, got {}", path, shown(kv.second))));
        continue;
      }
      load_map(path, kv.second);
    } else if (const FieldSpec* spec = schema_.find(path)) {
      set_from_file(*spec, kv.first, kv.second);
    } else {
      unknown_key(section, key, at(kv.first.Mark(), ""));
    }
  }
}

void Loader::set_from_file(const FieldSpec& spec, const YAML::Node& key, const YAML::Node& value) {
  if (auto problem = assign(spec, value)) {
    issue(at(value.IsNull() ? key.Mark() : value.Mark(), *problem));  // a missing value points at its key
    failed_.insert(spec.path);
    return;
  }
  const ConfigIssue pos = at(key.Mark(), "");
  origin_[spec.path] = {pos.where, pos.line, pos.column, -1};
}

void Loader::unknown_key(const std::string& section, const std::string& key, ConfigIssue where) {
  const std::string path = section.empty() ? key : section + "." + key;
  const std::string near = schema_.suggest(section, key);
  where.message = near.empty() ? fmt::format("unknown key '{}'", path)
                               : fmt::format("unknown key '{}' (did you mean '{}'?)", path, near);
  issue(std::move(where));
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
        std::map<std::string, double> next;  // the mapping replaces the default weights as a whole
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

void Loader::apply_override(const std::string& text, int index) {
  const ConfigIssue where{"--set " + text, ""};
  auto fail = [&](std::string message) {
    ConfigIssue i = where;
    i.message = std::move(message);
    issue(std::move(i));
  };
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    fail("an override must look like KEY=VALUE (e.g. --set trainer.lr=1e-6)");
    return;
  }
  const std::string path = text.substr(0, eq);
  const std::string raw = text.substr(eq + 1);
  const FieldSpec* spec = schema_.find(path);
  if (spec == nullptr) {
    if (schema_.is_section(path)) {
      fail(fmt::format("'{}' is a section; set one of its keys, e.g. {}.{}", path, path, schema_.keys_in(path).front()));
      return;
    }
    const auto dot = path.rfind('.');
    const std::string section = dot == std::string::npos ? "" : path.substr(0, dot);
    if (!section.empty() && !schema_.is_section(section)) {
      const std::string near = closest_match(section, schema_.sections());
      fail(fmt::format("unknown section '{}'{}", section, near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
      return;
    }
    unknown_key(section, dot == std::string::npos ? path : path.substr(dot + 1), where);
    return;
  }
  YAML::Node value;
  try {
    value = raw.empty() ? YAML::Node(YAML::NodeType::Null) : YAML::Load(raw);
  } catch (const YAML::Exception& e) {
    fail(fmt::format("{}: cannot parse value '{}' as YAML: {}", path, raw, printable(e.msg)));
    failed_.insert(path);
    return;
  }
  // A plain string field takes the text as written ("a: b" is a string here, not a mapping).
  if (spec->kind == FieldKind::kString && !value.IsScalar() && !value.IsNull()) value = YAML::Node(raw);
  if (auto problem = assign(*spec, value)) {
    fail(*problem);
    failed_.insert(path);
    return;
  }
  failed_.erase(path);
  origin_[path] = {where.where, 0, 0, index};
}

ExperimentConfig load(std::string_view text, const std::string& name, const std::vector<std::string>& overrides,
                      bool from_file) {
  ExperimentConfig config;
  Loader loader(config, name);
  if (from_file) loader.load_text(text);
  for (size_t i = 0; i < overrides.size(); ++i) loader.apply_override(overrides[i], static_cast<int>(i));
  if (loader.file_ok()) loader.validate(config);  // rules on a file that did not parse would be noise
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
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ConfigError({{path, "is a folder, not a config file"}});
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
  // Open sections as a path ("model", "lora"): a field closes the ones it is not in and opens its own.
  std::vector<std::string> open;
  for (const FieldSpec& spec : schema.fields()) {
    std::vector<std::string> want;
    for (size_t a = 0, b; !spec.section().empty() && a <= spec.section().size(); a = b + 1) {
      b = spec.section().find('.', a);
      if (b == std::string::npos) b = spec.section().size();
      want.push_back(spec.section().substr(a, b - a));
    }
    size_t common = 0;
    while (common < open.size() && common < want.size() && open[common] == want[common]) ++common;
    for (size_t i = open.size(); i > common; --i) out << YAML::EndMap;
    for (size_t i = common; i < want.size(); ++i) out << YAML::Key << want[i] << YAML::Value << YAML::BeginMap;
    open = want;
    out << YAML::Key << spec.key() << YAML::Value;
    emit_value(out, spec);
    out << YAML::Comment(spec.help);
  }
  for (size_t i = open.size(); i > 0; --i) out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

void write_resolved_config(const ExperimentConfig& config, const std::string& run_dir) {
  write_file_atomic(run_dir + "/config.yaml", config_to_yaml(config));
}

}  // namespace seer
