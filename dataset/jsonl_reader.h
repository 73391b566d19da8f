// Reading a JSONL dataset (one JSON object per line) into rows, with the field names from the `data`
// config section. A bad row is reported with file and line; `on_bad_row` decides whether it stops the
// load (fail) or is skipped and counted (skip).
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "dataset/row.h"

namespace seer::dataset {

struct ReadOptions {
  std::string image_root;               ///< "" = the JSONL file's folder
  std::string image_field = "image";
  std::string question_field = "problem";
  std::string answer_field = "solution";  ///< falls back to "answer" when the row has no such field
  std::string default_answer_type = "auto";
  bool skip_bad_rows = false;           ///< on_bad_row: skip (false = fail)
};

/// The read options of the `data` config section.
ReadOptions read_options(const DataConfig& data);

struct BadRow {
  int line = 0;
  std::string message;  ///< "FILE:LINE: why"
};

struct Dataset {
  std::string path;
  std::vector<Row> rows;
  std::vector<BadRow> bad;  ///< rows skipped (skip mode) or found (collect mode)
};

/// Reads `path`. In fail mode the first bad row throws seer::Error "FILE:LINE: why"; in skip mode bad rows
/// are left out and listed in Dataset::bad. Throws seer::Error when the file cannot be read.
Dataset read_jsonl(const std::string& path, const ReadOptions& options);

/// What skip mode left out, for the log: "FILE: skipped N bad rows (data.on_bad_row: skip): " and the first
/// `shown` messages (each "FILE:LINE: why"), "; ..." when there are more; "" when none.
std::string skipped_rows_summary(const Dataset& dataset, size_t shown = 5);

/// Every row parsed, every bad row listed (for `seer data check`): never throws for a bad row.
Dataset read_jsonl_all(const std::string& path, const ReadOptions& options);

/// Parses one line into `row`; returns "" or the reason it is bad. `dir` resolves relative image paths.
std::string parse_row(const std::string& line, int line_number, const std::string& file, const ReadOptions& options,
                      Row& row);

}  // namespace seer::dataset
