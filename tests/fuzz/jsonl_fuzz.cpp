// libFuzzer target for dataset rows (dataset/jsonl_reader.h parse_row): one JSONL line of arbitrary bytes.
// Contract: parse_row returns "" with a row (an id, a question or a conversation), or the reason the line is
// bad (read_jsonl adds FILE:LINE); never throws, never crashes.
// Build and run: scripts/fuzz.sh jsonl [SECONDS]
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dataset/jsonl_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string line(reinterpret_cast<const char*>(data), size);
  seer::dataset::ReadOptions options;
  options.image_root = "/nonexistent";
  seer::dataset::Row row;
  const std::string why = seer::dataset::parse_row(line, 7, "fuzz.jsonl", options, row);
  if (why.empty() && (row.id.empty() || (row.question.empty() && !row.is_conversation()))) std::abort();
  return 0;
}
