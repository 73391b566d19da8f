// libFuzzer target for tokenizer.json (model/tokenizer.h Tokenizer::from_file): the file's bytes are fuzzed.
// Contract: a file seer cannot use is a seer::Error naming it; a tokenizer that loads encodes and decodes
// any text (here: fixed ASCII, UTF-8 and invalid UTF-8 strings) without crashing, and every id it returns is
// decodable.
// Build and run: scripts/fuzz.sh tokenizer [SECONDS]
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/check.h"
#include "model/tokenizer.h"

namespace {
std::string scratch_path() {
  static const std::string path = "/tmp/seer-tokenizer-fuzz-" + std::to_string(::getpid()) + ".json";
  return path;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = scratch_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const seer::model::Tokenizer tok = seer::model::Tokenizer::from_file(path);
    for (const char* text : {"Hello, world! 123", "<think>x = 2</think><answer>4</answer>", "\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x99\x82",
                             "\xff\xfe broken \xc3", "  \n\t  "}) {
      const auto ids = tok.encode(text, true);
      (void)tok.decode(ids, false);
      (void)tok.decode(ids, true);
    }
  } catch (const seer::Error&) {
    // a clear error for an unusable file: the contract
  }
  return 0;
}
