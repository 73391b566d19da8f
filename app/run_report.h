// `seer report RUN_DIR`: how a run went, from the files it leaves (metrics.jsonl, groups.jsonl, config.yaml,
// logs/*.log), without Prometheus: a terminal summary (per-metric start/end/min/max and a sparkline, phase
// times, faults counted, answers early and late) and PNG plots of the main curves through gnuplot.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace seer::app {

/// One metric over the steps that recorded it.
struct MetricSeries {
  std::vector<double> steps, values;
};

/// What a run folder holds, parsed.
struct RunData {
  std::string dir, name, algorithm;
  int64_t planned_steps = 0;                      ///< trainer.steps of config.yaml; 0 when unreadable
  int64_t group_size = 0;
  double entropy_floor = 0;                       ///< metrics.entropy_floor
  std::map<std::string, MetricSeries> metrics;    ///< metrics.jsonl key -> series ("step" and "time" excluded)
  std::vector<double> steps, times;               ///< per metrics.jsonl line: step, wall time (Unix seconds)
  int64_t groups = 0, samples = 0;                ///< groups.jsonl totals
  std::map<std::string, int64_t> early_answers;   ///< answers sampled in the first 10 % of groups.jsonl lines
  std::map<std::string, int64_t> late_answers;    ///< ... in the last 10 %
  std::map<std::string, std::pair<int64_t, int64_t>> log_counts;  ///< logs/NAME -> (warnings, errors)
  std::vector<std::string> notes;                 ///< lines that could not be read, as FILE:LINE: why
};

/// Reads RUN_DIR. Throws seer::Error when RUN_DIR has no metrics.jsonl; an unparseable line (a run killed
/// mid-write) is skipped and noted as FILE:LINE.
RunData load_run(const std::string& run_dir);

/// The terminal summary (plain text, UTF-8 sparklines).
std::string render_report(const RunData& run);

/// `values` as a sparkline of at most `width` characters (bucket means, scaled between min and max).
std::string sparkline(const std::vector<double>& values, size_t width);

/// Writes reward.png (or loss.png for SFT), health.png and speed.png into `out_dir` (created) through
/// gnuplot, each first to a temp name then renamed. Returns the PNG paths. Throws seer::Error when gnuplot
/// is missing or fails (its exit status named).
std::vector<std::string> write_plots(const RunData& run, const std::string& out_dir);

}  // namespace seer::app
