// `seer data check`: what a dataset holds and every bad row in it, before a run starts.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "dataset/jsonl_reader.h"
#include "model/image_decode.h"

namespace seer::dataset {

struct CheckReport {
  int rows = 0;                              ///< good rows
  int rl_rows = 0, sft_rows = 0;
  int images = 0;                            ///< images (of good rows) that open
  std::map<std::string, int> answer_types;   ///< resolved answer type -> rows
  std::vector<std::string> problems;         ///< "FILE:LINE: why", in line order
  bool ok() const { return problems.empty(); }
};

/// Reads `path` and checks every row: JSON and fields, image path inside the root, image present and
/// readable (header decoded), gold answer parseable for its type. Never throws for a bad row; throws
/// seer::Error only when the file itself cannot be read.
CheckReport check_dataset(const std::string& path, const ReadOptions& options,
                          const model::DecodeLimits& limits = {});

/// Whether the gold of an RL row parses under its answer type (row answer_type, auto when unknown, its options):
/// "" or what GOLD_UNPARSEABLE would say. `resolved` gets the type auto resolves to ("numeric", "math", ...).
/// Never throws.
std::string row_gold_problem(const Row& row, std::string* resolved = nullptr);

/// Whether the file at `path` is an image the decoder can read within `limits` (JPEG, PNG, BMP, GIF, ...):
/// "" or the reason.
std::string image_problem(const std::string& path, const model::DecodeLimits& limits = {});

}  // namespace seer::dataset
