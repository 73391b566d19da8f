// Writing a generated task: PNG images plus, per split, RL rows (R1-V style, `<split>.jsonl`) and SFT rows
// (LLaVA conversations with templated <think>/<answer> reasoning, `sft_<split>.jsonl`). Files are written
// atomically, and the bytes depend only on the examples (same seed -> identical files).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/progress.h"

namespace seer::dataset {

/// 8-bit image, rows top to bottom, channels interleaved (1 = grey, 3 = RGB).
struct Image {
  int width = 0, height = 0, channels = 1;
  std::vector<uint8_t> pixels;
  Image() = default;
  Image(int w, int h, int c, uint8_t fill) : width(w), height(h), channels(c), pixels(static_cast<size_t>(w * h * c), fill) {}
  uint8_t* at(int x, int y) { return &pixels[static_cast<size_t>((y * width + x) * channels)]; }
};

/// Encodes `image` as PNG and writes it atomically. Throws seer::Error.
void write_png(const std::string& path, const Image& image);

struct Example {
  Image image;
  std::string question;
  std::string answer;
  std::string answer_type;  ///< numeric | text | ...
  std::string reasoning;    ///< the <think> body of the SFT row
  std::string source;       ///< provenance ("digits.csv.gz:17"), written as the rows' "source" field
};

/// Collects one split of one task and writes it on finish().
class SplitWriter {
 public:
  /// Files go to `dir`: images/<split>/<task>-<split>-NNNNNN.png, <split>.jsonl, sft_<split>.jsonl.
  SplitWriter(std::string dir, std::string task, std::string split);
  void add(const Example& example);  ///< writes the image now, the rows on finish()
  void finish();
  int count() const { return count_; }

 private:
  std::string dir_, task_, split_, rl_, sft_;
  int count_ = 0;
  Progress progress_;  ///< images written (a line only on a terminal, core/progress.h)
};

/// Deterministic integer in [0, n) from a 64-bit generator state (splitmix64): same on every platform.
uint64_t next_random(uint64_t& state);
inline int random_below(uint64_t& state, int n) { return static_cast<int>(next_random(state) % static_cast<uint64_t>(n)); }

}  // namespace seer::dataset
