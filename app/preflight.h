// Preflight (`seer check`, and automatically at the start of `seer run` and of `seer train` rank 0): everything
// that can be known before any process starts, each problem one line naming the file, field or row, all of them
// at once. Reads headers, not weights: a 7B checkpoint is checked in milliseconds. Never throws for a problem
// it finds; every problem becomes a Finding.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "model/hf_config.h"
#include "model/inputs.h"

namespace seer::app {

enum class Severity { kError, kWarning, kNote };

struct Finding {
  Severity severity = Severity::kError;
  std::string subject;  ///< the config field, file or FILE:LINE the finding is about
  std::string message;
  /// "error: SUBJECT: MESSAGE" (warning:, note:), as printed.
  std::string line() const;
};

/// What a preflight found. Errors fail it; warnings and notes are printed and do not.
struct Findings {
  std::vector<Finding> items;
  void error(std::string subject, std::string message) { add(Severity::kError, std::move(subject), std::move(message)); }
  void warning(std::string subject, std::string message) { add(Severity::kWarning, std::move(subject), std::move(message)); }
  void note(std::string subject, std::string message) { add(Severity::kNote, std::move(subject), std::move(message)); }
  void add(Severity s, std::string subject, std::string message) { items.push_back({s, std::move(subject), std::move(message)}); }
  int count(Severity s) const;
  bool ok() const { return count(Severity::kError) == 0; }
};

struct PreflightOptions {
  /// Rows per data file fully checked (images decoded and preprocessed, prompt built and measured); 0 = all.
  /// Every row is still parsed, its images looked up and its gold parsed.
  int64_t sample_rows = 0;
  /// As `seer train` rank 0 sees it: the launcher has done its work, and the reward service and the rollout
  /// workers may run on other hosts, so only the learner's own addresses and secrets are checked.
  bool learner_only = false;
  /// A progress line on stderr while data files are checked (only when stderr is a terminal).
  bool progress = true;
};

/// A model folder (`field` names it, e.g. "model.path"): the folder, config.json (architecture supported), the
/// safetensors headers against the tensors the config implies (model/expected_tensors.h: names, shapes,
/// floating dtypes), and unless `weights_only` the tokenizer, chat template, image processor, image token
/// and EOS ids. Returns the parsed config when config.json parses; `inputs` gets the prompt builder when
/// everything it needs loads.
std::optional<model::VlmConfig> check_model_folder(const std::string& field, const std::string& dir,
                                                   const ExperimentConfig& cfg, bool weights_only, Findings& findings,
                                                   std::optional<model::ModelInputs>* inputs = nullptr);

/// A dataset file (`field`: "data.train" or "data.eval"): rows parse, images exist, decode within the image
/// limits and preprocess, placeholders match images, prompts fit data.max_prompt_tokens (with the model's
/// image tokens; needs `inputs`), the rows suit the algorithm, and golds parse under their answer type
/// (GOLD_UNPARSEABLE counts per type, the first rows named: an error when none parses, a warning above 1%).
void check_data_file(const std::string& field, const std::string& path, const ExperimentConfig& cfg,
                     const model::ModelInputs* inputs, const PreflightOptions& options, Findings& findings);

/// The machine side: the launcher (cluster.mpirun) when several learner ranks are configured, the
/// addresses the processes bind, token files and variables, the run and checkpoint folders writable, and disk
/// space for the checkpoints the run keeps (weights and AdamW state from `model`'s parameter count).
void check_cluster(const ExperimentConfig& cfg, const std::optional<model::VlmConfig>& model,
                   const PreflightOptions& options, Findings& findings);

/// All of the above for a resolved config.
Findings preflight(const ExperimentConfig& cfg, const PreflightOptions& options);

/// Prints each finding on its own line, errors first, then "N errors, M warnings".
void print_findings(const Findings& findings, std::FILE* out);

/// Rows per data file fully checked by the automatic preflight (all rows are still parsed); `seer check`
/// checks every row unless told --sample.
inline constexpr int64_t kAutomaticSampleRows = 1000;

/// The automatic preflight of `seer run` and `seer train` rank 0 (`who` names it): prints the errors and
/// warnings to stderr when there are any and returns whether the run may start.
bool automatic_preflight(const ExperimentConfig& cfg, const std::string& who, bool learner_only);

}  // namespace seer::app
