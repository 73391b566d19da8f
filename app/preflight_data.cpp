// Preflight of a dataset file: rows, images, prompts and golds (app/preflight.h).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "app/preflight.h"
#include "core/check.h"
#include "dataset/check.h"
#include "dataset/jsonl_reader.h"

namespace seer::app {
namespace {

namespace fs = std::filesystem;

/// Row problems of one file: the first few become one error line each, the rest one summary line.
class RowProblems {
 public:
  RowProblems(std::string path, Severity severity) : path_(std::move(path)), severity_(severity) {}
  void add(int line, const std::string& why) {
    if (listed_.size() < kListed) listed_.emplace_back(line, why);
    ++count_;
  }
  void flush(Findings& f, const std::string& what) {
    std::sort(listed_.begin(), listed_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [line, why] : listed_) f.add(severity_, path_ + ":" + std::to_string(line), why);
    if (count_ > listed_.size()) f.add(severity_, path_, fmt::format("... {} rows with {} in all", count_, what));
  }

 private:
  static constexpr size_t kListed = 10;
  std::string path_;
  Severity severity_;
  std::vector<std::pair<int, std::string>> listed_;
  size_t count_ = 0;
};

/// "\r data.train: 120/1338 rows (560 rows/s)" on stderr, at most 4 times a second, only on a terminal.
class Progress {
 public:
  Progress(std::string label, size_t total, bool on)
      : label_(std::move(label)), total_(total), on_(on && ::isatty(2) == 1), start_(Clock::now()), last_(start_) {}
  ~Progress() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }
  void update(size_t done) {
    if (!on_) return;
    const auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    const double s = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\r\033[K  seer check %s: %zu/%zu rows (%.0f rows/s)", label_.c_str(), done, total_,
                 s > 0 ? static_cast<double>(done) / s : 0.0);
    shown_ = true;
  }

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_;
  size_t total_;
  bool on_, shown_ = false;
  Clock::time_point start_, last_;
};

/// Golds that would score GOLD_UNPARSEABLE, by resolved answer type.
struct GoldTally {
  std::map<std::string, int> rows, unparseable;
  std::map<std::string, std::vector<std::string>> examples;  ///< "FILE:LINE: reason", the first few per type
  int total = 0, bad = 0;
};

void report_golds(const std::string& path, const GoldTally& g, Findings& f) {
  if (g.bad == 0) return;
  const double rate = static_cast<double>(g.bad) / std::max(1, g.total);
  const Severity severity = g.bad == g.total ? Severity::kError : rate > 0.01 ? Severity::kWarning : Severity::kNote;
  for (const auto& [type, n] : g.unparseable) {
    std::string lines;
    for (const auto& e : g.examples.at(type)) lines += "; " + e;
    f.add(severity, path,
          fmt::format("{} of {} {} gold answers would score GOLD_UNPARSEABLE (no accuracy signal{}), e.g. {}", n,
                      g.rows.at(type), type, g.bad == g.total ? " from any row" : "", lines.substr(2)));
  }
}

}  // namespace

void check_data_file(const std::string& field, const std::string& path, const ExperimentConfig& cfg,
                     const model::ModelInputs* inputs, const PreflightOptions& options, Findings& f) {
  if (path.empty()) {
    f.error(field, "is empty; set it to a JSONL file of rows");
    return;
  }
  if (!fs::is_regular_file(path)) {
    f.error(field, fmt::format("'{}' {}", path, fs::exists(path) ? "is not a file" : "does not exist"));
    return;
  }
  dataset::Dataset d;
  try {
    d = dataset::read_jsonl_all(path, dataset::read_options(cfg.data));
  } catch (const Error& e) {
    f.error(field, e.what());
    return;
  }
  // Bad rows stop the run unless data.on_bad_row is skip; then they are counted and skipped.
  const bool skip = cfg.data.on_bad_row == "skip";
  RowProblems bad(path, skip ? Severity::kWarning : Severity::kError);
  for (const auto& b : d.bad) {
    const std::string prefix = path + ":" + std::to_string(b.line) + ": ";
    bad.add(b.line, b.message.rfind(prefix, 0) == 0 ? b.message.substr(prefix.size()) : b.message);
  }
  if (d.rows.empty() && d.bad.empty()) {
    f.error(path, "holds no rows");
    return;
  }

  const bool sft = cfg.algorithm.name == "sft" && field == "data.train";
  const size_t n = d.rows.size();
  const size_t sample = options.sample_rows > 0 ? std::min(n, static_cast<size_t>(options.sample_rows)) : n;
  const model::DecodeLimits limits{cfg.image.max_pixels, cfg.image.max_file_bytes};
  GoldTally golds;
  Progress progress(field, n, options.progress);
  size_t next_full = 0;  // rows fully checked: sample of them spread evenly over the file
  for (size_t i = 0; i < n; ++i) {
    progress.update(i);
    const dataset::Row& row = d.rows[i];
    const std::string where = path + ":" + std::to_string(row.line);
    if (sft != row.is_conversation()) {
      bad.add(row.line, sft ? "not a conversation row; SFT trains on {\"conversations\": ...} rows"
                            : "a conversation row; GRPO and evaluation need problem/solution rows");
      continue;
    }
    std::string why;
    for (const std::string& image : row.images) {
      if (why.empty() && !fs::exists(image)) why = fmt::format("image '{}' does not exist", image);
    }
    if (!row.is_conversation()) {
      std::string type;
      const std::string gold = dataset::row_gold_problem(row, &type);
      ++golds.rows[type];
      ++golds.total;
      if (!gold.empty()) {
        ++golds.bad;
        if (golds.unparseable[type]++ < 3) golds.examples[type].push_back(where + ": " + gold);
      }
    }
    const bool full = next_full < sample && i * sample / n >= next_full;  // evenly spaced rows
    if (full) ++next_full;
    if (why.empty() && full) {
      try {
        if (inputs == nullptr) {
          for (const std::string& image : row.images) {
            if (why.empty()) why = dataset::image_problem(image, limits);
          }
        } else {
          const model::PromptImages images = inputs->images(row.images);
          if (row.is_conversation()) {
            std::vector<std::pair<std::string, std::string>> turns;
            for (const auto& t : row.conversation) turns.emplace_back(t.role, t.content);
            (void)inputs->sft_example(turns, images.tokens, where);
          } else {
            (void)inputs->prompt(row.question, images.tokens, where);
          }
        }
      } catch (const Error& e) {
        why = e.what();
      }
    }
    if (!why.empty()) {
      const std::string prefix = where + ": ";
      bad.add(row.line, why.rfind(prefix, 0) == 0 ? why.substr(prefix.size()) : why);
    }
  }
  bad.flush(f, skip ? "problems (data.on_bad_row: skip drops them)" : "problems");
  report_golds(path, golds, f);
  if (sample < n) {
    f.note(path, fmt::format("images decoded and prompts built for {} of {} rows (--sample); the others were parsed "
                             "and their images looked up", sample, n));
  }
}

}  // namespace seer::app
