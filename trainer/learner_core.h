// What every learner loop (SFT, GRPO family) starts from and checkpoints: the policy, its inputs, the
// optimizer, the trainer state, all loaded from model.path or from the newest intact checkpoint the ranks
// agreed on. Internal to trainer/ (learner.cpp, grpo_learner.cpp).
#pragma once

#include <map>
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>

#include "core/config.h"
#include "model/inputs.h"
#include "model/vlm.h"
#include "trainer/checkpoint.h"
#include "trainer/communicator.h"
#include "trainer/gradient_reducer.h"
#include "trainer/optimizer.h"

namespace seer::trainer {

struct LearnerCore {
  std::unique_ptr<model::Vlm> policy;
  std::unique_ptr<model::ModelInputs> inputs;
  std::map<std::string, std::string> side_files;  ///< tokenizer/processor files for checkpoints
  std::map<std::string, at::Tensor> trainable;    ///< name -> parameter with requires_grad
  std::unique_ptr<AdamW> optimizer;
  TrainerState state;
  std::string resume_dir;                         ///< "" = started from model.path
  std::string device;
  /// On a GPU: NCCL for CUDA tensors routed beside the launcher's MPI for host ones (cluster.communicator);
  /// null when the launcher's communicator serves everything.
  std::unique_ptr<Communicator> routed;
  /// Overlapped all-reduce of the replicated optimizer's gradients (trainer.overlap_allreduce); null = after backward.
  std::unique_ptr<GradientReducer> reducer;
  /// The communicator every collective after loading goes through: `routed` if set, else `base`.
  Communicator& collectives(Communicator& base) { return routed ? *routed : base; }

  /// Rank 0 writes a checkpoint of the current state (RNG captured here; epoch/cursor as set by the caller),
  /// then all ranks meet at a barrier. Returns the folder on rank 0, "" elsewhere.
  std::string save(const ExperimentConfig& c, const std::string& config_yaml, Communicator& comm);
};

/// Loads the policy (trainable per model.freeze_vision_tower), inputs and AdamW (per-module LRs), resuming
/// per checkpoint.resume (collectively: every rank resumes from the same step). Throws seer::Error.
LearnerCore load_learner_core(const ExperimentConfig& c, Communicator& comm);


}  // namespace seer::trainer
