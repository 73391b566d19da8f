#include "dataset/jsonl_reader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/check.h"
#include "dataset/image_path.h"

namespace seer::dataset {

ReadOptions read_options(const DataConfig& data) {
  ReadOptions o;
  o.image_root = data.image_root;
  o.image_field = data.image_field;
  o.question_field = data.question_field;
  o.answer_field = data.answer_field;
  o.default_answer_type = data.answer_type;
  o.skip_bad_rows = data.on_bad_row == "skip";
  return o;
}

namespace {

const char* kAnswerTypes[] = {"auto", "numeric", "math", "choice", "text", "bbox"};

std::string image_root_of(const std::string& file, const ReadOptions& o) {
  if (!o.image_root.empty()) return o.image_root;
  const auto parent = std::filesystem::path(file).parent_path();
  return parent.empty() ? "." : parent.string();
}

/// "<image>" tags in `text`.
size_t count_image_tags(const std::string& text) {
  size_t n = 0;
  for (size_t at = text.find("<image>"); at != std::string::npos; at = text.find("<image>", at + 7)) ++n;
  return n;
}

/// Reads the LLaVA "conversations" list; returns "" or the reason it is bad.
std::string parse_conversation(const nlohmann::json& conv, size_t image_count, Row& row) {
  if (!conv.is_array() || conv.empty()) return "'conversations' must be a non-empty list of {from, value} turns";
  size_t images = 0;
  for (size_t i = 0; i < conv.size(); ++i) {
    const auto& t = conv[i];
    if (!t.is_object() || !t.contains("from") || !t.contains("value") || !t["from"].is_string() ||
        !t["value"].is_string()) {
      return "conversations[" + std::to_string(i) + "] needs string fields 'from' and 'value'";
    }
    const std::string from = t["from"];
    std::string role;
    if (from == "human" || from == "user") role = "user";
    else if (from == "gpt" || from == "assistant") role = "assistant";
    else if (from == "system") role = "system";
    else return "conversations[" + std::to_string(i) + "]: unknown speaker '" + from + "' (human, gpt or system)";
    const std::string value = t["value"];
    images += count_image_tags(value);
    row.conversation.push_back({role, value});
  }
  if (row.conversation.back().role != "assistant") return "the conversation must end with a gpt turn";
  if (images != image_count) {
    return "the conversation holds " + std::to_string(images) + " '<image>' tag(s) for the row's " +
           std::to_string(image_count) + " image(s); each image needs exactly one tag, in order";
  }
  return "";
}

}  // namespace

std::string parse_row(const std::string& line, int line_number, const std::string& file, const ReadOptions& o,
                      Row& row) {
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return "not valid JSON";
  if (!j.is_object()) return "a row must be a JSON object";
  row = Row{};
  row.line = line_number;
  row.id = file + ":" + std::to_string(line_number);
  if (j.contains("id")) {
    if (!j["id"].is_string() && !j["id"].is_number_integer()) return "'id' must be a string or an integer";
    row.id = j["id"].is_string() ? j["id"].get<std::string>() : std::to_string(j["id"].get<int64_t>());
    if (row.id.empty()) row.id = file + ":" + std::to_string(line_number);  // "id": "" names nothing
  }
  if (j.contains(o.image_field) && !j[o.image_field].is_null()) {
    const auto& field = j[o.image_field];
    const bool list = field.is_array();
    if (!field.is_string() && !list) return "'" + o.image_field + "' must be a path string or a list of them";
    for (size_t i = 0; i < (list ? field.size() : 1); ++i) {
      const auto& path = list ? field[i] : field;
      const std::string where = list ? o.image_field + "[" + std::to_string(i) + "]" : o.image_field;
      if (!path.is_string()) return "'" + where + "' must be a path string";
      try {
        row.images.push_back(resolve_image_path(image_root_of(file, o), path.get<std::string>()));
      } catch (const Error& e) {
        return "'" + where + "': " + e.what();
      }
    }
  }
  if (j.contains("conversations")) return parse_conversation(j["conversations"], row.images.size(), row);

  if (!j.contains(o.question_field) || !j[o.question_field].is_string()) {
    return "missing string field '" + o.question_field + "' (or 'conversations' for an SFT row)";
  }
  row.question = j[o.question_field];
  // Either every image is placed by its own "<image>" tag or none is (they then precede the question).
  if (const size_t tags = count_image_tags(row.question); tags != 0 && tags != row.images.size()) {
    return "'" + o.question_field + "' holds " + std::to_string(tags) + " '<image>' tag(s) for the row's " +
           std::to_string(row.images.size()) + " image(s); tag every image, in order, or none";
  }
  const std::string answer_key = j.contains(o.answer_field) ? o.answer_field : "answer";
  if (!j.contains(answer_key) || j[answer_key].is_null()) return "missing field '" + o.answer_field + "' (the gold answer)";
  const auto& a = j[answer_key];
  if (a.is_string()) row.answer = a.get<std::string>();
  else if (a.is_number()) row.answer = a.dump();
  else if (a.is_array() && answer_key == o.answer_field) row.answer = a.dump();  // a box [x1, y1, x2, y2]
  else return "'" + answer_key + "' must be a string or a number";
  row.answer_type = o.default_answer_type;
  if (j.contains("answer_type")) {
    if (!j["answer_type"].is_string()) return "'answer_type' must be a string";
    row.answer_type = j["answer_type"];
    bool known = false;
    for (const char* t : kAnswerTypes) known = known || row.answer_type == t;
    if (!known) return "unknown answer_type '" + row.answer_type + "' (auto, numeric, math, choice, text, bbox)";
  }
  if (j.contains("options")) {
    if (!j["options"].is_array()) return "'options' must be a list of option letters";
    for (const auto& x : j["options"]) {
      if (!x.is_string() || x.get<std::string>().empty()) return "'options' must be a list of non-empty strings";
      row.options.push_back(x);
    }
  }
  return "";
}

Dataset read_jsonl_all(const std::string& path, const ReadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  SEER_CHECK(in.good(), "cannot open dataset '{}'", path);
  Dataset d;
  d.path = path;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines are allowed
    Row row;
    const std::string why = parse_row(line, n, path, options, row);
    if (why.empty()) d.rows.push_back(std::move(row));
    else d.bad.push_back({n, path + ":" + std::to_string(n) + ": " + why});
  }
  return d;
}

std::string skipped_rows_summary(const Dataset& d, size_t shown) {
  if (d.bad.empty()) return "";
  std::string out = fmt::format("{}: skipped {} bad row(s) (data.on_bad_row: skip): ", d.path, d.bad.size());
  for (size_t i = 0; i < std::min(shown, d.bad.size()); ++i) out += (i ? "; " : "") + d.bad[i].message;
  if (d.bad.size() > shown) out += "; ...";
  return out;
}

Dataset read_jsonl(const std::string& path, const ReadOptions& options) {
  Dataset d = read_jsonl_all(path, options);
  if (!options.skip_bad_rows && !d.bad.empty()) {
    SEER_FAIL("{}{}", d.bad.front().message,
              d.bad.size() > 1 ? fmt::format(" (and {} more bad rows; data.on_bad_row: skip skips them)", d.bad.size() - 1)
                               : std::string(" (data.on_bad_row: skip skips bad rows)"));
  }
  return d;
}

}  // namespace seer::dataset
