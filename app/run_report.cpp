#include "app/run_report.h"

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/config_load.h"

namespace seer::app {
namespace fs = std::filesystem;
namespace {

/// Rows of the summary table: metrics.jsonl key and label, shown when the run recorded the key.
struct Row {
  const char* key;
  const char* label;
};
constexpr Row kRows[] = {
    {"reward_mean", "reward"},
    {"reward/accuracy", "accuracy (sampled)"},
    {"reward/format", "format"},
    {"sft_loss", "SFT loss"},
    {"loss", "policy loss"},
    {"entropy", "token entropy (nats)"},
    {"groups/equal_reward_fraction", "groups without signal"},
    {"groups/distinct_answers", "distinct answers/group"},
    {"kl", "KL to reference"},
    {"clip_fraction", "clip fraction"},
    {"grad_norm", "grad norm"},
    {"staleness", "staleness (steps)"},
    {"lr", "learning rate"},
    {"tokens_per_second", "learner tokens/s"},
    {"rollout/tokens_per_second", "rollout tokens/s"},
    {"phase/step", "step time (s)"},
};

/// Counters summed over the run: key, what it counts.
constexpr Row kFaults[] = {
    {"groups/stale", "stale groups dropped"},
    {"groups/duplicate", "duplicate groups dropped"},
    {"groups/unusable", "unusable groups"},
    {"groups/unknown", "groups for unknown prompts"},
    {"groups/checksum_mismatch", "weight checksum mismatches"},
    {"prompts/reissued", "prompts reissued"},
    {"skipped_rows", "rows skipped"},
};

double mean(const std::vector<double>& v, size_t begin, size_t end) {
  if (end <= begin) return std::nan("");
  return std::accumulate(v.begin() + static_cast<std::ptrdiff_t>(begin), v.begin() + static_cast<std::ptrdiff_t>(end), 0.0) /
         static_cast<double>(end - begin);
}

std::string number(double v) {
  if (std::isnan(v)) return "-";
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e6)) return fmt::format("{:.2e}", v);
  if (a >= 1000) return fmt::format("{:.0f}", v);
  return fmt::format("{:.3f}", v);
}

std::string duration(double seconds) {
  if (seconds < 120) return fmt::format("{:.0f} s", seconds);
  if (seconds < 7200) return fmt::format("{} min {:02.0f} s", static_cast<int64_t>(seconds / 60), std::fmod(seconds, 60));
  return fmt::format("{} h {:02d} min", static_cast<int64_t>(seconds / 3600), static_cast<int>(std::fmod(seconds, 3600) / 60));
}

/// "a (n%), b (m%), ..." of the `limit` most frequent answers.
std::string top_answers(const std::map<std::string, int64_t>& counts, size_t limit) {
  std::vector<std::pair<std::string, int64_t>> v(counts.begin(), counts.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  int64_t total = 0;
  for (const auto& [answer, n] : v) total += n;
  std::string out;
  for (size_t i = 0; i < v.size() && i < limit; ++i) {
    const std::string shown = v[i].first.empty() ? "(none)" : v[i].first.size() > 16 ? v[i].first.substr(0, 16) + "…" : v[i].first;
    out += fmt::format("{}{} {:.0f}%", i ? ", " : "", shown, 100.0 * static_cast<double>(v[i].second) / static_cast<double>(total));
  }
  if (v.size() > limit) out += fmt::format(", {} more distinct", v.size() - limit);
  return out;
}

/// Calls `parse` with each non-empty line of the JSONL `in`; a line that does not parse (a run killed mid-write)
/// is skipped and noted as FILE:LINE.
void for_each_json_line(std::ifstream& in, const fs::path& file, RunData& run,
                        const std::function<void(const nlohmann::json&)>& parse) {
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    try {
      parse(nlohmann::json::parse(line));
    } catch (const std::exception& e) {
      run.notes.push_back(fmt::format("{}:{}: skipped ({})", file.string(), line_no, e.what()));
    }
  }
}

void read_groups(const fs::path& file, RunData& run) {
  std::ifstream in(file);
  if (!in) return;
  std::vector<std::vector<std::string>> per_line;
  for_each_json_line(in, file, run, [&](const nlohmann::json& j) {
    std::vector<std::string> answers;
    for (const auto& g : j.at("groups")) {
      ++run.groups;
      for (const auto& a : g.value("answers", nlohmann::json::array())) answers.push_back(a.get<std::string>());
      run.samples += static_cast<int64_t>(g.value("rewards", nlohmann::json::array()).size());
    }
    per_line.push_back(std::move(answers));
  });
  const size_t tenth = std::max<size_t>(1, per_line.size() / 10);
  for (size_t i = 0; i < per_line.size(); ++i) {
    if (i < tenth) for (const auto& a : per_line[i]) ++run.early_answers[a];
    if (i + tenth >= per_line.size()) for (const auto& a : per_line[i]) ++run.late_answers[a];
  }
}

void count_log_levels(const fs::path& dir, RunData& run) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".log") continue;
    std::ifstream in(entry.path());
    std::string line;
    int64_t warnings = 0, errors = 0;
    while (std::getline(in, line)) {
      if (line.find("] warn") != std::string::npos) ++warnings;
      if (line.find("] error") != std::string::npos || line.find("] critical") != std::string::npos) ++errors;
    }
    run.log_counts[entry.path().filename().string()] = {warnings, errors};
  }
}

}  // namespace

std::string sparkline(const std::vector<double>& values, size_t width) {
  static const char* kBars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  if (values.empty() || width == 0) return "";
  const size_t buckets = std::min(width, values.size());
  std::vector<double> means(buckets);
  for (size_t b = 0; b < buckets; ++b) {
    const size_t begin = b * values.size() / buckets, end = (b + 1) * values.size() / buckets;
    means[b] = mean(values, begin, end);
  }
  const auto [lo, hi] = std::minmax_element(means.begin(), means.end());
  std::string out;
  for (double m : means) {
    const int level = *hi > *lo ? static_cast<int>(std::lround((m - *lo) / (*hi - *lo) * 7.0)) : 3;
    out += kBars[std::clamp(level, 0, 7)];
  }
  return out;
}

RunData load_run(const std::string& run_dir) {
  RunData run;
  run.dir = run_dir;
  const fs::path dir(run_dir);
  const fs::path metrics = dir / "metrics.jsonl";
  std::ifstream in(metrics);
  SEER_CHECK(in.good(), "{}: no metrics.jsonl here (is this a run folder? its run_dir)", run_dir);
  for_each_json_line(in, metrics, run, [&](const nlohmann::json& j) {
    const double step = j.at("step").get<double>();
    run.steps.push_back(step);
    run.times.push_back(j.value("time", std::nan("")));
    for (const auto& [key, value] : j.items()) {
      if (key == "step" || key == "time" || !value.is_number()) continue;
      auto& s = run.metrics[key];
      s.steps.push_back(step);
      s.values.push_back(value.get<double>());
    }
  });
  try {
    const ExperimentConfig cfg = load_config((dir / "config.yaml").string());
    run.name = cfg.name;
    run.algorithm = cfg.algorithm.name;
    run.planned_steps = cfg.trainer.steps;
    run.group_size = cfg.rollout.group_size;
    run.entropy_floor = cfg.metrics.entropy_floor;
  } catch (const std::exception& e) {
    run.notes.push_back(fmt::format("{}: not read ({})", (dir / "config.yaml").string(), e.what()));
  }
  read_groups(dir / "groups.jsonl", run);
  count_log_levels(dir / "logs", run);
  return run;
}

std::string render_report(const RunData& run) {
  std::string out;
  const size_t n = run.steps.size();
  double wall = 0;
  if (n >= 2 && !std::isnan(run.times.front()) && !std::isnan(run.times.back())) wall = run.times.back() - run.times.front();
  out += fmt::format("run {} ({}, {}): {} of {} steps recorded", run.dir, run.name.empty() ? "?" : run.name,
                     run.algorithm.empty() ? "?" : run.algorithm, n > 0 ? static_cast<int64_t>(run.steps.back()) : 0,
                     run.planned_steps > 0 ? std::to_string(run.planned_steps) : "?");
  if (wall > 0) out += fmt::format(", {} between the first and the last", duration(wall));
  out += "\n\n";
  out += fmt::format("{:<24} {:>10} {:>10} {:>10} {:>10}  {}\n", "", "first 10%", "last 10%", "min", "max", "trend");
  for (const Row& row : kRows) {
    auto it = run.metrics.find(row.key);
    if (it == run.metrics.end() || it->second.values.empty()) continue;
    const auto& v = it->second.values;
    const size_t tenth = std::max<size_t>(1, v.size() / 10);
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    out += fmt::format("{:<24} {:>10} {:>10} {:>10} {:>10}  {}\n", row.label, number(mean(v, 0, tenth)),
                       number(mean(v, v.size() - tenth, v.size())), number(*lo), number(*hi), sparkline(v, 40));
  }
  // Where the step time goes.
  std::vector<std::pair<std::string, double>> phases;
  for (const auto& [key, s] : run.metrics) {
    if (key.rfind("phase/", 0) == 0 && key != "phase/step") phases.emplace_back(key.substr(6), mean(s.values, 0, s.values.size()));
  }
  if (!phases.empty()) {
    std::stable_sort(phases.begin(), phases.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    double step = 0;
    if (auto it = run.metrics.find("phase/step"); it != run.metrics.end()) step = mean(it->second.values, 0, it->second.values.size());
    out += "\nphases (mean seconds per step):";
    for (const auto& [name, seconds] : phases) {
      if (seconds < 1e-3) continue;
      out += step > 0 ? fmt::format(" {} {:.3f} ({:.0f}%)", name, seconds, 100 * seconds / step) : fmt::format(" {} {:.3f}", name, seconds);
    }
    out += "\n";
  }
  for (const char* key : {"threads/learner", "threads/rollout"}) {
    auto it = run.metrics.find(key);
    if (it != run.metrics.end() && !it->second.values.empty()) {
      out += fmt::format("{}: {} intra-op threads\n", key, number(it->second.values.back()));
    }
  }
  // Faults and odd completions.
  std::string faults;
  for (const Row& row : kFaults) {
    auto it = run.metrics.find(row.key);
    if (it == run.metrics.end()) continue;
    const double total = std::accumulate(it->second.values.begin(), it->second.values.end(), 0.0);
    faults += fmt::format("{}{} {}", faults.empty() ? "" : ", ", row.label, static_cast<int64_t>(total));
  }
  if (!faults.empty()) out += "\nfaults: " + faults + "\n";
  double ok = 0, statuses = 0;
  std::string status_text;
  for (const auto& [key, s] : run.metrics) {
    if (key.rfind("status/", 0) != 0) continue;
    const double total = std::accumulate(s.values.begin(), s.values.end(), 0.0);
    statuses += total;
    if (key == "status/OK") ok = total;
  }
  for (const auto& [key, s] : run.metrics) {
    if (key.rfind("status/", 0) != 0 || key == "status/OK" || statuses <= 0) continue;
    const double total = std::accumulate(s.values.begin(), s.values.end(), 0.0);
    status_text += fmt::format(", {} {:.1f}%", key.substr(7), 100 * total / statuses);
  }
  if (statuses > 0) out += fmt::format("completions: {} scored, OK {:.1f}%{}\n", static_cast<int64_t>(statuses), 100 * ok / statuses, status_text);
  if (auto it = run.metrics.find("entropy"); it != run.metrics.end() && run.entropy_floor > 0) {
    const auto& v = it->second.values;
    const auto below = std::count_if(v.begin(), v.end(), [&](double e) { return e < run.entropy_floor; });
    if (below > 0) out += fmt::format("entropy below metrics.entropy_floor {} at {} steps\n", run.entropy_floor, below);
  }
  if (run.groups > 0) {
    out += fmt::format("\ngroups.jsonl: {} groups, {} samples{}\n", run.groups, run.samples,
                       run.group_size > 0 ? fmt::format(" (G = {})", run.group_size) : "");
    out += "answers, first 10% of steps: " + top_answers(run.early_answers, 8) + "\n";
    out += "answers, last 10% of steps:  " + top_answers(run.late_answers, 8) + "\n";
  }
  if (!run.log_counts.empty()) {
    out += "\nlogs:";
    for (const auto& [file, c] : run.log_counts) out += fmt::format(" {} {} warnings {} errors;", file, c.first, c.second);
    out.back() = '\n';
  }
  for (const auto& note : run.notes) out += "note: " + note + "\n";
  return out;
}

std::vector<std::string> write_plots(const RunData& run, const std::string& out_dir) {
  fs::create_directories(out_dir);
  const fs::path dat = fs::path(out_dir) / "metrics.dat";
  // Columns: step, then each plotted key (NaN where a step did not record it).
  const std::vector<std::string> keys = {"reward_mean", "reward/accuracy", "reward/format", "sft_loss", "entropy",
                                         "groups/equal_reward_fraction", "groups/distinct_answers", "kl",
                                         "phase/step", "phase/update", "phase/wait_rollout", "tokens_per_second"};
  {
    std::map<double, std::vector<double>> table;
    for (size_t k = 0; k < keys.size(); ++k) {
      auto it = run.metrics.find(keys[k]);
      if (it == run.metrics.end()) continue;
      for (size_t i = 0; i < it->second.steps.size(); ++i) {
        auto& row = table[it->second.steps[i]];
        row.resize(keys.size(), std::nan(""));
        row[k] = it->second.values[i];
      }
    }
    std::ofstream f(dat);
    for (const auto& [step, row] : table) {
      f << step;
      for (size_t k = 0; k < keys.size(); ++k) f << ' ' << (k < row.size() && !std::isnan(row[k]) ? fmt::format("{}", row[k]) : "NaN");
      f << '\n';
    }
  }
  auto has = [&](const char* key) { return run.metrics.count(key) > 0; };
  auto col = [&](const std::string& key) {
    return std::to_string(2 + std::distance(keys.begin(), std::find(keys.begin(), keys.end(), key)));
  };
  std::string script = "set terminal pngcairo size 900,480 font \",11\"\nset grid\nset key outside right\nset xlabel \"learner step\"\n"
                       "set datafile missing \"NaN\"\n";
  std::vector<std::string> pngs;
  auto plot = [&](const std::string& name, const std::string& title, const std::vector<std::pair<std::string, std::string>>& lines,
                  const std::string& extra) {
    std::string plots;
    for (const auto& [key, label] : lines) {
      if (!has(key.c_str())) continue;
      plots += fmt::format("{}\"{}\" using 1:{} with lines title \"{}\"", plots.empty() ? "" : ", ", dat.string(), col(key), label);
    }
    if (plots.empty()) return;
    const fs::path png = fs::path(out_dir) / name;
    script += fmt::format("set output \"{}.tmp\"\nset title \"{}\"\n{}plot {}\nunset yrange\n", png.string(), title, extra, plots);
    pngs.push_back(png.string());
  };
  const std::string who = run.name.empty() ? run.dir : run.name;
  if (has("sft_loss")) {
    plot("loss.png", who + ": SFT loss", {{"sft_loss", "loss"}}, "");
  } else {
    plot("reward.png", who + ": reward of the training samples",
         {{"reward_mean", "reward"}, {"reward/accuracy", "accuracy"}, {"reward/format", "format"}}, "set yrange [0:1.05]\n");
  }
  plot("health.png", who + ": exploration and signal",
       {{"entropy", "token entropy (nats)"}, {"groups/equal_reward_fraction", "groups without signal"}, {"kl", "KL"}}, "");
  plot("speed.png", who + ": seconds per step",
       {{"phase/step", "step"}, {"phase/update", "update"}, {"phase/wait_rollout", "waiting for rollouts"}}, "");
  SEER_CHECK(!pngs.empty(), "{}: no metric to plot", run.dir);
  script += "set output\n";
  FILE* gp = popen("gnuplot 2>&1", "w");
  SEER_CHECK(gp != nullptr, "cannot start gnuplot");
  std::fwrite(script.data(), 1, script.size(), gp);
  const int status = pclose(gp);
  SEER_CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) != 127,
             "gnuplot not found: no plots (scripts/install-deps.sh installs gnuplot-nox)");
  SEER_CHECK(WEXITSTATUS(status) == 0, "gnuplot failed with exit status {}", WEXITSTATUS(status));
  for (const auto& png : pngs) fs::rename(png + ".tmp", png);
  return pngs;
}

}  // namespace seer::app
