// `seer data check FILE`: validate a dataset before a run; `seer data make TASK --out DIR`: generate tasks.
#include <cstdio>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "app/commands.h"
#include "app/process_setup.h"
#include "core/log.h"
#include "dataset/check.h"
#include "dataset/generators.h"

namespace seer::app {

void add_data_command(CLI::App& app, Invocation& inv) {
  struct Args {
    std::string file, config, image_root, task;
    std::vector<std::string> overrides;
    dataset::GenerateOptions gen;
    int max_problems = 50;
  };
  auto args = std::make_shared<Args>();
  CLI::App* data = app.add_subcommand("data", "Check datasets and generate task data");
  data->require_subcommand(1, 1);

  CLI::App* check = data->add_subcommand("check", "Count rows, answer types and images; report every bad row");
  check->add_option("file", args->file, "dataset (JSONL)")->required();
  check->add_option("--config", args->config, "experiment config whose `data` section maps the fields");
  check->add_option("--set", args->overrides, "config override, e.g. --set data.answer_field=answer");
  check->add_option("--image-root", args->image_root, "resolve images here (default: data.image_root or the file's folder)");
  check->add_option("--max-problems", args->max_problems, "print at most this many bad rows (all are counted)");
  check->callback([args, &inv] {
    ExperimentConfig cfg;
    try {
      cfg = load_and_log(args->config, args->overrides, inv.log_level, "data");
    } catch (const std::exception& e) {
      inv.exit_code = report_config_error(e);
      return;
    }
    dataset::ReadOptions o = dataset::read_options(cfg.data);
    o.image_root = args->image_root.empty() ? cfg.data.image_root : args->image_root;
    o.skip_bad_rows = false;
    model::DecodeLimits limits;
    limits.max_pixels = cfg.image.max_pixels;
    limits.max_file_bytes = cfg.image.max_file_bytes;
    const dataset::CheckReport r = dataset::check_dataset(args->file, o, limits);
    int shown = 0;
    for (const auto& p : r.problems) {
      if (shown++ < args->max_problems) std::fprintf(stderr, "%s\n", p.c_str());
    }
    if (shown > args->max_problems) std::fprintf(stderr, "... and %d more\n", shown - args->max_problems);
    std::printf("%s: %d good rows (%d RL, %d SFT conversations), %d images, %zu bad\n", args->file.c_str(), r.rows,
                r.rl_rows, r.sft_rows, r.images, r.problems.size());
    for (const auto& [type, n] : r.answer_types) std::printf("  %-14s %d\n", type.c_str(), n);
    inv.exit_code = r.ok() ? 0 : kExitBadInput;
  });

  CLI::App* make = data->add_subcommand("make", "Generate a task's train/test splits (JSONL + PNG)");
  std::string tasks;
  for (const auto& t : dataset::task_names()) tasks += (tasks.empty() ? "" : ", ") + t;
  make->add_option("task", args->task, "one of: " + tasks)->required();
  make->add_option("--out", args->gen.out_dir, "output folder")->required();
  make->add_option("--seed", args->gen.seed, "generation seed (same seed, same bytes)");
  make->add_option("--source", args->gen.source, "source data file or folder (default: the Debian package's)");
  make->add_option("--train", args->gen.train, "training examples (default: the task's)");
  make->add_option("--test", args->gen.test, "test examples (default: the task's)");
  make->callback([args, &inv] {
    log::init({"data"}, inv.log_level.empty() ? "info" : inv.log_level);
    dataset::generate_task(args->task, args->gen);
    spdlog::info("wrote {} to {}", args->task, args->gen.out_dir);
    inv.exit_code = 0;
  });
}

}  // namespace seer::app
