// Tokenizer encode throughput (MB/s) on the golden cases' texts, for each golden tokenizer; baseline in the
// same run: a UTF-8 validation pass over the same bytes (the cost of reading them once).
// Usage: tokenizer_bench [GOLDEN_TOKENIZERS_DIR] [--seconds S]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "model/tokenizer.h"

using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string dir = "../shared/golden/tokenizers";
  double seconds = 2.0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = std::atof(argv[++i]);
    else dir = argv[i];
  }
  for (const char* name : {"qwen3", "llama3", "llama2"}) {
    const std::string base = dir + "/" + name;
    std::ifstream in(base + "/cases.jsonl");
    if (!in) {
      std::fprintf(stderr, "tokenizer_bench: cannot open %s/cases.jsonl\n", base.c_str());
      return 1;
    }
    std::vector<std::string> texts;
    size_t bytes = 0;
    std::string line;
    while (std::getline(in, line)) {
      texts.push_back(nlohmann::json::parse(line)["text"]);
      bytes += texts.back().size();
    }
    const auto tok = seer::model::Tokenizer::from_file(base + "/tokenizer.json");
    auto measure = [&](auto fn) {
      size_t done = 0;
      const auto t0 = Clock::now();
      do {
        for (const auto& t : texts) done += fn(t);
      } while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds);
      return done / std::chrono::duration<double>(Clock::now() - t0).count() / 1e6;
    };
    const auto t0 = Clock::now();
    size_t tokens = 0;
    for (const auto& t : texts) tokens += tok.encode(t).size();
    const double cold = bytes / std::chrono::duration<double>(Clock::now() - t0).count() / 1e6;
    const double warm = measure([&](const std::string& t) { return tok.encode(t).size() > 0 ? t.size() : t.size(); });
    const double read = measure([&](const std::string& t) { return seer::model::utf8_lossy(t).size(); });
    std::printf("{\"bench\":\"tokenizer\",\"tokenizer\":\"%s\",\"bytes\":%zu,\"tokens\":%zu,\"encode_cold_mb_per_s\":%.2f,"
                "\"encode_mb_per_s\":%.2f,\"baseline_utf8_read_mb_per_s\":%.1f,\"encode_vs_read\":%.4f}\n",
                name, bytes, tokens, cold, warm, read, warm / read);
    std::printf("%s: encode %.2f MB/s (first pass, empty cache: %.2f MB/s); %.2f%% of a UTF-8 read of the same text\n",
                name, warm, cold, 100 * warm / read);
  }
  return 0;
}
