// Preflight orchestration and printing (app/preflight.h).
#include "app/preflight.h"

#include <algorithm>

#include <fmt/format.h>

namespace seer::app {

std::string Finding::line() const {
  const char* label = severity == Severity::kError ? "error" : severity == Severity::kWarning ? "warning" : "note";
  return fmt::format("{}: {}: {}", label, subject, message);
}

int Findings::count(Severity s) const {
  return static_cast<int>(std::count_if(items.begin(), items.end(), [s](const Finding& x) { return x.severity == s; }));
}

Findings preflight(const ExperimentConfig& cfg, const PreflightOptions& options) {
  Findings f;
  std::optional<model::ModelInputs> inputs;
  const auto model = check_model_folder("model.path", cfg.model.path, cfg, false, f, &inputs);
  if (!cfg.model.reference_path.empty() && cfg.model.reference_path != cfg.model.path) {
    (void)check_model_folder("model.reference_path", cfg.model.reference_path, cfg, true, f);
  }
  const model::ModelInputs* in = inputs ? &*inputs : nullptr;
  check_data_file("data.train", cfg.data.train, cfg, in, options, f);
  if (!cfg.data.eval.empty()) check_data_file("data.eval", cfg.data.eval, cfg, in, options, f);
  check_cluster(cfg, model, options, f);
  return f;
}

void print_findings(const Findings& findings, std::FILE* out) {
  for (Severity s : {Severity::kError, Severity::kWarning, Severity::kNote}) {
    for (const Finding& x : findings.items) {
      if (x.severity == s) std::fprintf(out, "%s\n", x.line().c_str());
    }
  }
  const int errors = findings.count(Severity::kError), warnings = findings.count(Severity::kWarning);
  std::fprintf(out, "%d error%s, %d warning%s\n", errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
}

bool automatic_preflight(const ExperimentConfig& cfg, const std::string& who, bool learner_only) {
  PreflightOptions options;
  options.sample_rows = kAutomaticSampleRows;
  options.learner_only = learner_only;
  Findings f = preflight(cfg, options);
  f.items.erase(std::remove_if(f.items.begin(), f.items.end(), [](const Finding& x) { return x.severity == Severity::kNote; }),
                f.items.end());
  if (f.items.empty()) return true;
  print_findings(f, stderr);
  if (!f.ok()) {
    std::fprintf(stderr, "%s: preflight failed, nothing was started; fix the errors above (`seer check CONFIG` lists "
                 "them again) or skip the checks with --no-preflight\n", who.c_str());
  }
  std::fflush(stderr);
  return f.ok();
}

}  // namespace seer::app
