// `seer report RUN_DIR [--plots DIR | --no-plots]`: a run judged without Prometheus (app/run_report.h).
#include <cstdio>
#include <memory>

#include "app/commands.h"
#include "app/run_report.h"

namespace seer::app {
namespace {

struct ReportArgs {
  std::string run_dir, plots_dir;
  bool no_plots = false;
};

int report(const ReportArgs& a) {
  RunData run;
  try {
    run = load_run(a.run_dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seer report: %s\n", e.what());
    return kExitBadInput;
  }
  std::fputs(render_report(run).c_str(), stdout);
  if (a.no_plots) return 0;
  try {
    const auto pngs = write_plots(run, a.plots_dir.empty() ? a.run_dir + "/report" : a.plots_dir);
    std::printf("\nplots:");
    for (const auto& p : pngs) std::printf(" %s", p.c_str());
    std::printf("\n");
  } catch (const std::exception& e) {
    std::printf("\nno plots: %s\n", e.what());
  }
  return 0;
}

}  // namespace

void add_report_command(CLI::App& app, Invocation& inv) {
  auto a = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand("report", "How a run went, from its folder: metric trends, phase times, faults, "
                                               "answers early and late, and PNG plots (gnuplot)");
  cmd->add_option("run_dir", a->run_dir, "the run folder (run_dir of its config)")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--plots", a->plots_dir, "where the PNG plots go (default: RUN_DIR/report)");
  cmd->add_flag("--no-plots", a->no_plots, "only the terminal summary");
  cmd->callback([a, &inv] { inv.exit_code = report(*a); });
}

}  // namespace seer::app
