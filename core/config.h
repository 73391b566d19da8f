// The typed experiment config: one struct per YAML section, each field with its default and unit.
// Parsed and validated once at start-up (core/config_load.h), printed, saved in the run directory, and
// passed down explicitly; nothing below main() reads the environment for settings.
//
// To add a setting: add the field here with its default and a comment, then bind it (with its range or
// choices and a one-line help) in core/config_fields.cpp; cross-field rules go in core/config_validate.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace seer {

/// `model.lora`: low-rank adapters (Hu et al. 2021, "LoRA", eq. 3: h = W0 x + (alpha / r) B A x) on the
/// decoder's (and optionally the projector's) linear layers; base weights frozen. rank 0 = off.
struct LoraConfig {
  int64_t rank = 0;                     ///< r: adapter rank; 0 = no adapters (full fine-tuning).
  double alpha = 16;                    ///< Scaling alpha / r, as PEFT's lora_alpha.
  double dropout = 0.0;                 ///< Dropout on the adapter's input while training (PEFT lora_dropout).
  std::vector<std::string> target_modules = {"q_proj", "v_proj"};  ///< PEFT names: a module is adapted when its
                                        ///< name is one of these or ends with ".NAME"; decoder and projector only.
};

/// `model`: the policy checkpoint and how prompts are built for it.
struct ModelConfig {
  std::string path;                     ///< HF checkpoint directory of the policy (config.json + safetensors).
  std::string reference_path;           ///< Frozen reference model; "" = same as `path`.
  std::string chat_template = "auto";   ///< auto (from tokenizer_config.json) | chatml | qwen3 | qwen2vl | llama3 | llama2 | llava | vicuna
  std::string system_prompt;            ///< Prepended as a system turn when non-empty.
  std::string assistant_prefill;        ///< Text the assistant turn starts with (e.g. "<think>\n").
  bool freeze_vision_tower = true;      ///< The vision tower gets no gradient (LLaVA recipe).
  std::string device = "auto";          ///< auto (CUDA when available) | cpu | cuda
  LoraConfig lora;
};

/// `data`: where rows come from and how their fields are named.
struct DataConfig {
  std::string train;                    ///< Training rows, JSONL.
  std::string eval;                     ///< Evaluation rows, JSONL; "" = no evaluation.
  std::string image_root;               ///< Images resolve against this; "" = the JSONL file's folder.
  std::string image_field = "image";
  std::string question_field = "problem";
  std::string answer_field = "solution";
  std::string answer_type = "auto";     ///< Default answer type when a row has none.
  std::string on_bad_row = "fail";      ///< fail | skip (skipped rows are counted and logged).
  bool shuffle = true;                  ///< Shuffle once per epoch with the run seed.
  int64_t max_prompt_tokens = 1024;     ///< Longer prompts are a bad row.
};

/// `image`: decoding of dataset images.
struct ImageConfig {
  std::string alpha = "white";          ///< white: composite transparency over white | drop: ignore alpha (PIL convert("RGB"))
  int64_t max_pixels = 64 << 20;        ///< larger images are a per-file error
  int64_t max_file_bytes = 64 << 20;
};

/// `rollout`: sampling of G completions per prompt by the rollout workers.
struct RolloutConfig {
  int64_t workers = 1;                  ///< Rollout worker processes `seer run` starts.
  int64_t group_size = 8;               ///< G: completions per prompt (GRPO needs at least 2).
  double temperature = 1.0;
  double top_p = 1.0;                   ///< Nucleus sampling mass; 1 = off.
  int64_t top_k = 0;                    ///< 0 = off.
  int64_t max_new_tokens = 512;         ///< Completions that reach it are truncated (reward status TRUNCATED).
  int64_t prompts_per_call = 4;         ///< Prompts per generation call.
  int64_t preprocess_threads = 2;       ///< Threads for chat templating and image preprocessing.
  std::vector<std::string> stop;        ///< Extra stop strings besides the model's EOS.
  int64_t max_staleness = 1;            ///< Groups older than this many weight versions are not trained on.
  double lease_timeout_seconds = 120;   ///< Prompts not returned in time are handed out again.
  /// A worker gives up (exit status 1) when the coordinator has not answered for this long; 0 = wait forever.
  /// The coordinator answers from its own threads even mid-step, so silence this long means the learner is gone.
  double coordinator_patience_seconds = 900;
};

/// `reward`: the reward service and how components combine (../shared/design/rewards.md).
struct RewardConfig {
  std::string address = "127.0.0.1:0";  ///< Listen address of `seer reward`; port 0 = pick a free one.
  int64_t threads = 4;                  ///< Scoring threads.
  double sample_budget_seconds = 1.0;   ///< A sample over budget is UNSCORABLE (never 0).
  double request_timeout_seconds = 30;  ///< Client deadline for one Score call.
  int64_t max_request_bytes = 16 << 20;
  int64_t max_samples_per_request = 8192;  ///< Score requests with more samples are refused (one worker call sends
                                           ///< rollout.prompts_per_call x group_size).
  std::map<std::string, double> weights{{"accuracy", 0.9}, {"format", 0.1}};  ///< Weighted sum of components.
  double numeric_rel_tol = 1e-6;        ///< The one relative tolerance of numeric/math comparison.
  std::string bbox_frame = "absolute";  ///< absolute | norm1000 | norm1: frame of predicted boxes.
  std::string auth_token_file;          ///< Bearer token read from this file; "" = none.
  std::string auth_token_env;           ///< ... or from this environment variable (read once in main).
};

/// `algorithm`: what the learner optimises (rewards.md sections 5-6).
struct AlgorithmConfig {
  std::string name = "grpo";            ///< grpo | sft
  std::string advantage = "grpo";       ///< grpo | rloo | reinforce_pp_baseline
  std::string scale = "std";            ///< std | none (Dr.GRPO)
  std::string loss_aggregation = "token-mean";  ///< token-mean | seq-mean-token-mean | seq-mean-token-sum-norm
  double eps_low = 0.2;                 ///< Clip range below 1.
  double eps_high = 0.2;                ///< Clip range above 1 (DAPO clip-higher: e.g. 0.28).
  bool sequence_level_ratio = false;    ///< GSPO: one importance ratio per sequence.
  double kl_coef = 0.04;                ///< beta; 0 loads no reference model.
  std::string kl_estimator = "k3";      ///< k1 | k2 | k3
  std::string kl_in = "loss";           ///< loss | reward
  int64_t ppo_epochs = 1;               ///< Passes over one rollout batch.
  int64_t mini_batches = 1;             ///< Optimizer steps per epoch.
  bool dynamic_sampling = false;        ///< Drop groups whose rewards are all equal, refill from the buffer.
  int64_t overlong_buffer_tokens = 0;   ///< Soft overlong penalty window before max_new_tokens; 0 = off.
  double overlong_penalty = 1.0;        ///< Penalty at max_new_tokens, ramping linearly over the window.
  double entropy_coef = 0.0;            ///< Entropy bonus: loss − coef · token entropy (keeps exploring); 0 = off.
};

/// `trainer`: optimisation schedule of the learner ranks.
struct TrainerConfig {
  int64_t steps = 100;                  ///< Learner steps (one rollout batch each).
  int64_t prompts_per_step = 8;         ///< Prompts per step; the batch is prompts_per_step x group_size.
  int64_t micro_batch_size = 4;         ///< Sequences per forward/backward pass on one rank.
  double lr = 1e-6;
  double projector_lr = 0;              ///< Peak LR of multi_modal_projector.*; 0 = lr (LLaVA's mm_projector_lr).
  double vision_tower_lr = 0;           ///< Peak LR of vision_tower.* when trained; 0 = lr (mm_vision_tower_lr).
  std::string lr_schedule = "constant"; ///< constant | linear | cosine (after warm-up)
  int64_t warmup_steps = 0;
  double weight_decay = 0.0;            ///< AdamW decoupled weight decay.
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  double max_grad_norm = 1.0;           ///< Global-norm clipping; 0 = off.
  int64_t allreduce_bucket_bytes = 25 << 20;
  bool shard_optimizer = false;         ///< AdamW state and gradient sum sharded across learner ranks (ZeRO 1-2)
  bool gradient_checkpointing = false;  ///< Recompute each decoder layer's activations in backward (less memory)
  bool share_prompts = true;            ///< GRPO: a group's prompt computed once per micro-batch, its samples
                                        ///< attending to its keys (same gradients, less work)
  std::string overlap_allreduce = "auto";  ///< auto (on with NCCL) | on | off: all-reduce buckets during backward
};

/// `checkpoint`: HF-layout checkpoints with optimizer and data-cursor state.
struct CheckpointConfig {
  std::string dir;                      ///< "" = <run_dir>/checkpoints
  int64_t every_steps = 50;             ///< 0 = only at the end.
  int64_t keep_last = 3;                ///< Older checkpoints are deleted; 0 = keep all.
  std::string resume = "auto";          ///< auto: continue from the newest intact checkpoint in `dir` if any |
                                        ///< required: fail without one | never: start over
};

/// `metrics`: Prometheus endpoints and the metrics.jsonl step record.
struct MetricsConfig {
  bool prometheus = true;
  std::string address = "127.0.0.1";   ///< Interface the /metrics endpoints bind to.
  int64_t port = 0;                     ///< First process's port; others count up from it; 0 = pick free ports.
  bool jsonl = true;                    ///< Write <run_dir>/metrics.jsonl.
  int64_t log_every_steps = 1;          ///< Rank 0 prints a step summary this often.
  double entropy_floor = 0.02;          ///< Warn when a step's mean token entropy (nats) falls below; 0 = off.
  double no_signal_fraction = 0.8;      ///< Warn when more than this fraction of groups has equal rewards; 1 = off.
};

/// `cluster`: processes and communicators.
struct ClusterConfig {
  int64_t learner_ranks = 1;            ///< World size of the learner (mpirun -np).
  std::string communicator = "auto";    ///< auto (NCCL on GPU, MPI on CPU) | mpi | nccl
  std::string bind_address = "127.0.0.1";  ///< Where the coordinator listens.
  int64_t coordinator_port = 0;         ///< 0 = pick a free port.
  std::string auth_token_file;          ///< Coordinator bearer token read from this file; "" = none.
  std::string auth_token_env;           ///< ... or from this environment variable (read once in main).
  int64_t weight_chunk_bytes = 4 << 20; ///< Payload of one streamed weight chunk.
  int64_t max_message_bytes = 256 << 20;  ///< Largest coordinator message (a pushed group, a weight chunk).
  int64_t max_groups_per_push = 4096;   ///< PushGroups streams with more groups are cut off (RESOURCE_EXHAUSTED).
  /// TLS of every seer service (reward service, coordinator) and of their clients; on when tls_ca_file is set.
  std::string tls_cert_file;            ///< PEM certificate (chain) this host's services present.
  std::string tls_key_file;             ///< PEM private key of tls_cert_file.
  std::string tls_ca_file;              ///< PEM CA certificate(s) clients verify the services against; "" = plain text.
  std::string tls_server_name;          ///< Name clients check in the certificate instead of the address's host.
  std::string mpirun = "mpirun";
  std::vector<std::string> mpirun_args; ///< Extra arguments for mpirun.
};

/// How tensors are computed on CPU (issue: CPU compute backend). Each process applies its own dtype.
struct ComputeConfig {
  std::string matmul = "auto";          ///< auto (measured at start-up) | blas | onednn: the fp32 linear-layer path
  /// float32 | bfloat16 | auto: matmul dtype of learner passes (fp32 master weights); auto is decided once the
  /// model has loaded (model/precision_choice.h)
  std::string learner_dtype = "float32";
  std::string rollout_dtype = "float32";  ///< float32 | bfloat16 | auto: matmul dtype of generation and evaluation
  int64_t threads = 0;                  ///< intra-op threads per process; 0 = the thread plan (app/process_setup.h)
  int64_t learner_threads = 0;          ///< intra-op threads of each learner rank; 0 = compute.threads
  int64_t rollout_threads = 0;          ///< intra-op threads of each rollout worker; 0 = compute.threads
};

/// The whole experiment. Top-level keys: name, run_dir, seed, log_level, and the sections.
struct ExperimentConfig {
  std::string name = "seer";            ///< Experiment name (used in the default run_dir).
  std::string run_dir;                  ///< "" = runs/<name>
  int64_t seed = 1;                     ///< Seeds data order, sampling and initialisation.
  std::string log_level = "info";       ///< trace | debug | info | warn | error
  ModelConfig model;
  DataConfig data;
  ImageConfig image;
  RolloutConfig rollout;
  RewardConfig reward;
  AlgorithmConfig algorithm;
  TrainerConfig trainer;
  CheckpointConfig checkpoint;
  MetricsConfig metrics;
  ClusterConfig cluster;
  ComputeConfig compute;

  /// run_dir, or runs/<name> when it is empty.
  std::string resolved_run_dir() const { return run_dir.empty() ? "runs/" + name : run_dir; }
};

}  // namespace seer
