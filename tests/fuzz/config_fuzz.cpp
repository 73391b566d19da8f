// libFuzzer target for the experiment config (core/config_load.h): YAML text plus `--set` overrides from
// arbitrary bytes. Contract: load either returns a config or throws ConfigError listing the problems
// (FILE:LINE:COL) or seer::Error; nothing else escapes, nothing crashes.
// Build and run: scripts/fuzz.sh config [SECONDS]
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/config_load.h"
#include "core/config_schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  // Bytes after a 0xFF are one `--set key=value` override each, split at 0xFE.
  const size_t split = all.find('\xff');
  const std::string yaml = all.substr(0, split);
  std::vector<std::string> overrides;
  if (split != std::string::npos) {
    size_t at = split + 1;
    while (at <= all.size()) {
      const size_t end = all.find('\xfe', at);
      overrides.push_back(all.substr(at, end == std::string::npos ? std::string::npos : end - at));
      if (end == std::string::npos) break;
      at = end + 1;
    }
  }
  try {
    (void)seer::load_config_text(yaml, "fuzz.yaml", overrides);
  } catch (const seer::ConfigError& e) {
    if (e.issues().empty()) std::abort();  // every refusal lists at least one problem
  } catch (const seer::Error&) {
  }
  return 0;
}
