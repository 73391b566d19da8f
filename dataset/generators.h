// Task generators on real images (`seer data make TASK --out DIR --seed N`): handwritten digits (UCI
// optical digits, from Debian's python3-sklearn), Fashion-MNIST product photos (Debian's
// dataset-fashion-mnist) and CLEVR-style counting scenes. Deterministic for a seed; train and test
// never share a source image.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace seer::dataset {

struct GenerateOptions {
  std::string out_dir;
  uint64_t seed = 1;
  std::string source;      ///< source file/folder; "" = the Debian location (see default_source)
  int train = 0, test = 0; ///< examples per split; 0 = the task's default
};

/// Tasks `seer data make` knows: digits-classify, digits-sum, digits-count, digits (all three, one
/// folder each), fashion-classify, shapes-count.
const std::vector<std::string>& task_names();

/// The Debian path of a task's source data ("" for shapes-count, which draws its own scenes).
std::string default_source(const std::string& task);

/// Generates `task` into options.out_dir. Throws seer::Error naming the source file (and line) when it
/// is missing or malformed, and for an unknown task (with a suggestion).
void generate_task(const std::string& task, const GenerateOptions& options);

/// One digit of the UCI optical-digits file: 8x8 pixels with values 0..16, and its label.
struct DigitRow {
  uint8_t pixels[64];
  int label;
};

/// Reads digits.csv.gz (64 pixel columns + label per line). Throws seer::Error naming file and line.
std::vector<DigitRow> read_digits(const std::string& path);

/// Indices 0..n-1 split deterministically into (train, test) with `test_fraction` in test.
std::pair<std::vector<int>, std::vector<int>> split_indices(int n, double test_fraction, uint64_t seed);

}  // namespace seer::dataset
