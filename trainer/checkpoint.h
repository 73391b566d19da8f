// Learner checkpoints: one directory per step, written complete into a temp directory and renamed, so a
// crash mid-write never leaves a half checkpoint that looks valid:
//   ROOT/step-00000006/model/        HF layout (config.json, safetensors, tokenizer and processor files):
//                                    loads with Vlm::load and with transformers
//   ROOT/step-00000006/optimizer.safetensors   AdamW state by parameter name
//   ROOT/step-00000006/trainer_state.json      step, weight_version, data cursor, seed, CPU RNG state
//   ROOT/step-00000006/config.yaml             the resolved config of the run
//   ROOT/step-00000006/manifest.json           size and CRC-32 of every file above (written last)
//   ROOT/latest                                name of the newest complete checkpoint (updated after the rename)
// Older checkpoints beyond `keep_last` are deleted after `latest` moves.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace seer::model { class Vlm; }

namespace seer::trainer {

class AdamW;

/// Where training stands; enough, with the model and optimizer, to continue bit for bit.
struct TrainerState {
  int64_t step = 0;            ///< learner steps completed
  int64_t weight_version = 0;  ///< version of the policy weights (one per optimizer update published)
  int64_t epoch = 0;           ///< data epoch of the next batch
  int64_t cursor = 0;          ///< index of the next row within the epoch's order
  uint64_t seed = 0;
  std::string rng_state;       ///< LibTorch default CPU generator state (bytes)
  /// Linear-layer backend the run used ("blas" | "onednn"; empty in checkpoints from before it was
  /// recorded). A resumed run with `compute.matmul: auto` reuses it instead of measuring again: the two
  /// backends round differently, and a different choice under load would break bit-identical resume.
  std::string matmul;
  /// Intra-op threads of the learner (0 in checkpoints from before it was recorded). A resumed run whose thread
  /// count comes from the thread plan reuses it: reductions split by thread count round differently.
  int64_t threads = 0;
  /// GRPO: prompt ids after (epoch, cursor) already trained on (groups arrive out of data order); the resumed
  /// coordinator skips them. Empty for SFT.
  std::vector<std::string> done_prompts;
};

/// The tokenizer and processor files of a model folder (tokenizer.json, tokenizer_config.json,
/// preprocessor_config.json, ...): name -> content, read once when training starts, because the folder a
/// run resumed from may itself be pruned (keep_last) before the run's next checkpoint.
std::map<std::string, std::string> read_model_side_files(const std::string& model_dir);

/// Writes checkpoint `state.step` under `root` and moves `latest` to it; deletes checkpoints beyond
/// `keep_last` (0 = keep all). `side_files` (read_model_side_files) are written next to the weights.
/// Returns the checkpoint's directory. Throws seer::Error on I/O failure (the previous checkpoint and
/// `latest` stay intact).
std::string save_checkpoint(const std::string& root, const model::Vlm& model,
                            const std::map<std::string, std::string>& side_files, const AdamW& optimizer,
                            const TrainerState& state, const std::string& config_yaml, int64_t keep_last);

/// Checks a checkpoint directory against its manifest (every file present, same size and CRC-32).
/// Returns "" when it is intact, else what is wrong ("model/model.safetensors: 1048576 bytes, manifest
/// says 2097152").
std::string verify_checkpoint(const std::string& dir);

/// The newest intact checkpoint under `root`: the one `latest` names, else (with a warning naming the
/// corrupt one and why) the next older intact one. nullopt when `root` holds none.
std::optional<std::string> find_resumable_checkpoint(const std::string& root);

/// Reads trainer_state.json of checkpoint `dir`. Throws seer::Error naming the file and field.
TrainerState read_trainer_state(const std::string& dir);

/// Restores the optimizer state of checkpoint `dir` into `optimizer` (same parameter names).
void load_optimizer_state(const std::string& dir, AdamW& optimizer);

/// All step-NNNNNNNN directories under `root`, oldest first.
std::vector<std::string> list_checkpoints(const std::string& root);

}  // namespace seer::trainer
