// The digits tasks: classify one digit, sum two, count digits > 5 in a 2x2 grid.
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/check.h"
#include "dataset/generators.h"
#include "dataset/task_writer.h"

namespace seer::dataset {
namespace {

constexpr int kScale = 4;  // 8x8 source pixels -> 32x32 image

/// Draws `d` at (x0, y0), dark ink on white: value 0..16 -> 255..0.
void draw_digit(Image& img, const DigitRow& d, int x0, int y0) {
  for (int y = 0; y < 8 * kScale; ++y) {
    for (int x = 0; x < 8 * kScale; ++x) {
      const int v = d.pixels[(y / kScale) * 8 + x / kScale];
      *img.at(x0 + x, y0 + y) = static_cast<uint8_t>(255 - (v * 255 + 8) / 16);
    }
  }
}

/// Draws `d` at 3x scale (24x24) at (x0, y0): the out-of-distribution variant of a 32x32 digit image.
void draw_digit_small(Image& img, const DigitRow& d, int x0, int y0) {
  for (int y = 0; y < 24; ++y) {
    for (int x = 0; x < 24; ++x) {
      const int v = d.pixels[(y / 3) * 8 + x / 3];
      *img.at(x0 + x, y0 + y) = static_cast<uint8_t>(255 - (v * 255 + 8) / 16);
    }
  }
}

}  // namespace

std::vector<DigitRow> read_digits(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  SEER_CHECK(f != nullptr, "{}: cannot open (install Debian's python3-sklearn, or run scripts/install-deps.sh, or "
                           "pass --source)", path);
  std::vector<DigitRow> rows;
  char buf[4096];
  int line = 0;
  while (gzgets(f, buf, sizeof(buf)) != nullptr) {
    ++line;
    std::string text(buf);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.empty()) continue;
    std::stringstream ss(text);
    std::string cell;
    std::vector<int> values;
    while (std::getline(ss, cell, ',')) {
      try {
        size_t used = 0;
        const double v = std::stod(cell, &used);
        if (v != static_cast<int>(v)) throw std::invalid_argument("not an integer");
        values.push_back(static_cast<int>(v));
      } catch (const std::exception&) {
        gzclose(f);
        SEER_FAIL("{}:{}: '{}' is not an integer", path, line, cell);
      }
    }
    if (values.size() != 65) {
      gzclose(f);
      SEER_FAIL("{}:{}: expected 64 pixel values and a label, got {} values", path, line, values.size());
    }
    DigitRow r{};
    for (int i = 0; i < 64; ++i) {
      if (values[static_cast<size_t>(i)] < 0 || values[static_cast<size_t>(i)] > 16) {
        gzclose(f);
        SEER_FAIL("{}:{}: pixel {} = {} is outside 0..16", path, line, i, values[static_cast<size_t>(i)]);
      }
      r.pixels[i] = static_cast<uint8_t>(values[static_cast<size_t>(i)]);
    }
    r.label = values[64];
    if (r.label < 0 || r.label > 9) {
      gzclose(f);
      SEER_FAIL("{}:{}: label {} is not a digit", path, line, r.label);
    }
    rows.push_back(r);
  }
  const bool error = gzeof(f) == 0;
  gzclose(f);
  SEER_CHECK(!error, "{}: read error after line {} (corrupt gzip?)", path, line);
  SEER_CHECK(!rows.empty(), "{}: no rows", path);
  return rows;
}

std::pair<std::vector<int>, std::vector<int>> split_indices(int n, double test_fraction, uint64_t seed) {
  std::vector<int> order(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  uint64_t state = seed;
  for (int i = n - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(random_below(state, i + 1))]);
  const int test = static_cast<int>(n * test_fraction);
  std::vector<int> te(order.begin(), order.begin() + test), tr(order.begin() + test, order.end());
  std::sort(te.begin(), te.end());
  std::sort(tr.begin(), tr.end());
  return {tr, te};
}

void generate_digits(const std::string& task, const GenerateOptions& o) {
  const std::string source = o.source.empty() ? default_source(task) : o.source;
  const auto digits = read_digits(source);
  const auto [train_idx, test_idx] = split_indices(static_cast<int>(digits.size()), 0.2, o.seed);
  for (const auto& [split, pool] : {std::make_pair(std::string("train"), train_idx), std::make_pair(std::string("test"), test_idx)}) {
    SplitWriter w(o.out_dir, task, split);
    uint64_t state = o.seed * 1000003ULL + (split == "train" ? 1 : 2);
    auto pick = [&, &pool = pool] { return digits[static_cast<size_t>(pool[static_cast<size_t>(random_below(state, static_cast<int>(pool.size())))])]; };
    if (task == "digits-classify") {
      const int n = split == "train" ? (o.train > 0 ? o.train : static_cast<int>(pool.size()))
                                     : (o.test > 0 ? o.test : static_cast<int>(pool.size()));
      for (int i = 0; i < n; ++i) {
        const int index = pool[static_cast<size_t>(i % static_cast<int>(pool.size()))];
        const DigitRow& d = digits[static_cast<size_t>(index)];
        Example e{Image(32, 32, 1, 255), "Which digit is shown?", std::to_string(d.label), "numeric",
                  "The strokes form the digit " + std::to_string(d.label) + ".",
                  std::filesystem::path(source).filename().string() + ":" + std::to_string(index + 1)};
        draw_digit(e.image, d, 0, 0);
        w.add(e);
      }
    } else if (task == "digits-sum") {
      const int n = split == "train" ? (o.train > 0 ? o.train : 2000) : (o.test > 0 ? o.test : 400);
      for (int i = 0; i < n; ++i) {
        const DigitRow a = pick(), b = pick();
        const int s = a.label + b.label;
        Example e{Image(64, 32, 1, 255), "What is the sum of the two digits?", std::to_string(s), "numeric",
                  "The left digit is " + std::to_string(a.label) + " and the right digit is " + std::to_string(b.label) +
                      ". " + std::to_string(a.label) + " + " + std::to_string(b.label) + " = " + std::to_string(s) + ".", ""};
        draw_digit(e.image, a, 0, 0);
        draw_digit(e.image, b, 32, 0);
        w.add(e);
      }
    } else {  // digits-count
      const int n = split == "train" ? (o.train > 0 ? o.train : 2000) : (o.test > 0 ? o.test : 400);
      for (int i = 0; i < n; ++i) {
        Example e{Image(64, 64, 1, 255), "How many digits are greater than 5?", "", "numeric", "The digits are ", ""};
        int count = 0;
        std::string big;
        for (int k = 0; k < 4; ++k) {
          const DigitRow d = pick();
          draw_digit(e.image, d, (k % 2) * 32, (k / 2) * 32);
          e.reasoning += std::to_string(d.label) + (k < 2 ? ", " : k == 2 ? " and " : ". ");
          if (d.label > 5) {
            ++count;
            big += (big.empty() ? "" : ", ") + std::to_string(d.label);
          }
        }
        e.reasoning += big.empty() ? "None is greater than 5." : "Greater than 5: " + big + ".";
        e.answer = std::to_string(count);
        w.add(e);
      }
    }
    w.finish();
  }
  if (task == "digits-classify") {
    // Out of distribution: the test split's digits drawn smaller (24x24 instead of 32x32) at a random place
    // on the 32x32 canvas. Same held-out source images as `test`; no training split sees this layout.
    SplitWriter w(o.out_dir, task, "test_ood");
    uint64_t state = o.seed * 1000003ULL + 3;
    const int n = o.test > 0 ? o.test : static_cast<int>(test_idx.size());
    for (int i = 0; i < n; ++i) {
      const int index = test_idx[static_cast<size_t>(i % static_cast<int>(test_idx.size()))];
      const DigitRow& d = digits[static_cast<size_t>(index)];
      Example e{Image(32, 32, 1, 255), "Which digit is shown?", std::to_string(d.label), "numeric",
                "The strokes form the digit " + std::to_string(d.label) + ".",
                std::filesystem::path(source).filename().string() + ":" + std::to_string(index + 1)};
      const int x0 = random_below(state, 9), y0 = random_below(state, 9);
      draw_digit_small(e.image, d, x0, y0);
      w.add(e);
    }
    w.finish();
  }
}

}  // namespace seer::dataset
