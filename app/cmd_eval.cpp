// `seer eval --model DIR --data FILE`: greedy (or sampled pass@k) accuracy, format rate and reward of a
// model on RL-style rows, scored by the training reward scorers; a table on stdout, JSON with --json.
#include <algorithm>
#include <cstdio>
#include <memory>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "app/commands.h"
#include "app/process_setup.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "core/progress.h"
#include "dataset/jsonl_reader.h"
#include "model/inputs.h"
#include "model/precision_choice.h"
#include "model/vlm.h"
#include "reward/scoring_config.h"
#include "rollout/evaluate.h"

namespace seer::app {
namespace {

struct EvalArgs {
  std::string config, model, data, json_out;
  std::vector<std::string> overrides;
  int64_t samples = 1, batch = 16, max_new_tokens = -1, limit = 0;
  int threads = 0;
};

nlohmann::ordered_json totals_json(const rollout::EvalTotals& t) {
  return {{"rows", t.rows},         {"skipped", t.skipped}, {"accuracy", t.accuracy},
          {"pass_at_k", t.pass_at_k}, {"format", t.format},   {"reward", t.reward},
          {"completion_tokens", t.completion_tokens}};
}

nlohmann::ordered_json answers_json(const rollout::AnswerStats& s) {
  nlohmann::ordered_json j;
  j["majority_answer"] = s.majority_answer;
  j["majority_baseline"] = s.majority_baseline;
  j["total_variation"] = s.total_variation;
  j["balanced_accuracy"] = s.balanced_accuracy;
  j["per_answer"] = nlohmann::ordered_json::object();
  for (const auto& [answer, c] : s.per_answer) {
    j["per_answer"][answer] = {{"rows", c.rows}, {"correct", c.correct}, {"accuracy", c.accuracy()}, {"predicted", c.predicted}};
  }
  j["gold_histogram"] = s.gold_histogram;
  j["predicted_histogram"] = s.predicted_histogram;
  return j;
}

/// The answer table: gold answers by frequency (at most `limit`), then predictions that are no gold answer.
void print_answers(const rollout::AnswerStats& s, size_t limit) {
  if (s.rows == 0) return;
  std::vector<std::pair<std::string, rollout::ClassStats>> classes(s.per_answer.begin(), s.per_answer.end());
  std::stable_sort(classes.begin(), classes.end(), [](const auto& x, const auto& y) { return x.second.rows > y.second.rows; });
  std::printf("\n%-12s %6s %6s %9s\n", "answer", "gold", "pred", "accuracy");
  for (size_t i = 0; i < classes.size() && i < limit; ++i) {
    const auto& [answer, c] = classes[i];
    std::printf("%-12s %6lld %6lld %9.4f\n", answer.c_str(), static_cast<long long>(c.rows),
                static_cast<long long>(c.predicted), c.accuracy());
  }
  if (classes.size() > limit) std::printf("(%zu more gold answers in the JSON report)\n", classes.size() - limit);
  int64_t other = 0;
  std::string shown;
  for (const auto& [key, n] : s.predicted_histogram) {
    if (s.per_answer.count(key)) continue;
    other += n;
    if (shown.size() < 80) shown += (shown.empty() ? "" : ", ") + key + " (" + std::to_string(n) + ")";
  }
  if (other > 0) std::printf("predictions that are no gold answer: %lld rows: %s\n", static_cast<long long>(other), shown.c_str());
  std::printf("majority-answer baseline %.4f (always \"%s\"), balanced accuracy %.4f, "
              "total variation distance predicted vs gold %.4f\n",
              s.majority_baseline, s.majority_answer.c_str(), s.balanced_accuracy, s.total_variation);
}

int eval(const EvalArgs& a, const Invocation& inv) {
  ExperimentConfig cfg;
  try {
    cfg = load_and_log(a.config, a.overrides, inv.log_level, "eval");
  } catch (const std::exception& e) {
    return report_config_error(e);
  }
  if (a.threads > 0) cfg.compute.threads = a.threads;
  try {
    apply_compute(cfg, "eval", HostProcesses{});
    const std::string model_dir = a.model.empty() ? cfg.model.path : a.model;
    const std::string data_file = a.data.empty() ? cfg.data.eval : a.data;
    SEER_CHECK(!data_file.empty(), "no data to evaluate: pass --data FILE or set data.eval");
    auto model = model::Vlm::load(model_dir);
    model->set_train(false);
    model::resolve_auto_precision(cfg.compute.rollout_dtype, *model, "eval");
    const auto inputs = model::ModelInputs::load(model_dir, model->config(), model::input_options(cfg));
    auto data = dataset::read_jsonl(data_file, dataset::read_options(cfg.data));
    if (a.limit > 0 && static_cast<int64_t>(data.rows.size()) > a.limit) data.rows.resize(static_cast<size_t>(a.limit));
    rollout::EvalOptions o;
    o.batch_size = a.batch;
    o.samples = a.samples;
    o.temperature = cfg.rollout.temperature;
    o.max_new_tokens = a.max_new_tokens > 0 ? a.max_new_tokens : cfg.rollout.max_new_tokens;
    o.seed = static_cast<uint64_t>(cfg.seed);
    o.scoring = reward::scoring_options(cfg);
    int64_t last_logged = 0;
    Progress progress("evaluating " + data_file, static_cast<int64_t>(data.rows.size()), "rows");
    const auto report = rollout::evaluate(*model, inputs, data.rows, o, [&](int64_t done, int64_t total) {
      progress.set(done);
      if (!progress_enabled() && (done - last_logged >= 256 || done == total)) {
        spdlog::info("evaluated {}/{} rows", done, total);
        last_logged = done;
      }
    });
    progress.finish();
    std::printf("%-10s %6s %9s %9s %8s %8s\n", "type", "rows", a.samples > 1 ? "mean acc" : "accuracy", "pass@k",
                "format", "reward");
    auto line = [&](const std::string& name, const rollout::EvalTotals& t) {
      std::printf("%-10s %6lld %9.4f %9.4f %8.4f %8.4f\n", name.c_str(), static_cast<long long>(t.rows), t.accuracy,
                  t.pass_at_k, t.format, t.reward);
    };
    for (const auto& [type, t] : report.by_type) line(type, t);
    line("all", report.overall);
    print_answers(report.answers, 20);
    std::printf("%s: %lld rows in %.1f s (%lld skipped)\n", data_file.c_str(), static_cast<long long>(report.overall.rows),
                report.seconds, static_cast<long long>(report.overall.skipped));
    if (!a.json_out.empty()) {
      nlohmann::ordered_json j;
      j["model"] = model_dir;
      j["data"] = data_file;
      j["samples_per_row"] = a.samples;
      j["overall"] = totals_json(report.overall);
      for (const auto& [type, t] : report.by_type) j["by_type"][type] = totals_json(t);
      j["answers"] = answers_json(report.answers);
      for (const auto& s : report.samples) {
        j["samples"].push_back({{"id", s.id}, {"gold", s.gold}, {"completion", s.completion}, {"extracted", s.extracted},
                                {"accuracy", s.accuracy}, {"format", s.format}, {"status", s.status}});
      }
      write_file_atomic(a.json_out, j.dump(2) + "\n");
    }
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitBadInput;
  }
  return 0;
}

}  // namespace

void add_eval_command(CLI::App& app, Invocation& inv) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate a model on a dataset (accuracy, format rate, per answer type)");
  cmd->add_option("--model", a->model, "model folder (HF layout; default: model.path of the config)");
  cmd->add_option("--data", a->data, "rows to evaluate, JSONL (default: data.eval of the config)");
  cmd->add_option("--config", a->config, "experiment config for prompts and scoring (default: built-in defaults)");
  cmd->add_option("--set", a->overrides, "override a config key: section.key=value (repeatable)");
  cmd->add_option("--samples", a->samples, "k samples per row at rollout.temperature (pass@k); 1 = greedy")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--batch", a->batch, "prompts per generation call")->check(CLI::Range(1, 4096));
  cmd->add_option("--max-new-tokens", a->max_new_tokens, "default: rollout.max_new_tokens");
  cmd->add_option("--limit", a->limit, "evaluate only the first N rows");
  cmd->add_option("--threads", a->threads, "intra-op threads (default: compute.threads, else all cores)");
  cmd->add_option("--json", a->json_out, "also write the report (with each row's completion) to this file");
  cmd->callback([a, &inv] { inv.exit_code = eval(*a, inv); });
}

}  // namespace seer::app
