// Every settable config key, in the order `seer config show` prints them: its range or choices and one
// line of help. Defaults live in core/config.h.
#include "core/config_schema.h"

namespace seer {
namespace {

const std::vector<std::string> kAnswerTypes = {"auto", "numeric", "math", "choice", "text", "bbox"};
const std::vector<std::string> kLogLevels = {"trace", "debug", "info", "warn", "error"};
const std::vector<std::string> kRewardComponents = {"accuracy", "format", "length"};
constexpr double kMaxPort = 65535;

}  // namespace

ConfigSchema::ConfigSchema(ExperimentConfig& c) {
  SchemaBuilder top(*this, "");
  top.text("name", &c.name, "experiment name");
  top.text("run_dir", &c.run_dir, "run directory for logs, metrics and checkpoints (\"\" = runs/<name>)");
  top.integer("seed", &c.seed, Range::at_least(0), "seed for data order, sampling and initialisation");
  top.choice("log_level", &c.log_level, kLogLevels, "log level of every process");

  SchemaBuilder model(*this, "model");
  model.text("path", &c.model.path, "Hugging Face checkpoint directory of the policy");
  model.text("reference_path", &c.model.reference_path, "frozen reference model (\"\" = model.path)");
  model.choice("chat_template", &c.model.chat_template,
               {"auto", "chatml", "qwen3", "qwen2vl", "llama3", "llama2", "llava", "vicuna"}, "chat template family");
  model.text("system_prompt", &c.model.system_prompt, "system turn (\"\" = none)");
  model.text("assistant_prefill", &c.model.assistant_prefill, "text the assistant turn starts with");
  model.flag("freeze_vision_tower", &c.model.freeze_vision_tower, "no gradient into the vision tower");
  model.choice("device", &c.model.device, {"auto", "cpu", "cuda"}, "compute device");
  SchemaBuilder lora(*this, "model.lora");
  lora.integer("rank", &c.model.lora.rank, Range::at_least(0), "LoRA adapter rank r (0 = no adapters: full fine-tuning)");
  lora.number("alpha", &c.model.lora.alpha, Range::greater_than(0), "LoRA alpha: adapters are scaled by alpha / r");
  lora.number("dropout", &c.model.lora.dropout, Range::half_open(0, 1), "dropout on the adapter input while training");
  lora.text_list("target_modules", &c.model.lora.target_modules,
                 "adapted linear layers by PEFT name (q_proj, v_proj, ...; decoder and projector only)");

  SchemaBuilder data(*this, "data");
  data.text("train", &c.data.train, "training rows (JSONL)");
  data.text("eval", &c.data.eval, "evaluation rows (JSONL)");
  data.text("image_root", &c.data.image_root, "image folder (\"\" = the JSONL file's folder)");
  data.text("image_field", &c.data.image_field, "row field holding the image path");
  data.text("question_field", &c.data.question_field, "row field holding the question");
  data.text("answer_field", &c.data.answer_field, "row field holding the gold answer");
  data.choice("answer_type", &c.data.answer_type, kAnswerTypes, "answer type of rows that have none");
  data.choice("on_bad_row", &c.data.on_bad_row, {"fail", "skip"}, "what a bad row does");
  data.flag("shuffle", &c.data.shuffle, "shuffle rows each epoch");
  data.integer("max_prompt_tokens", &c.data.max_prompt_tokens, Range::at_least(1), "longest prompt, in tokens");

  SchemaBuilder image(*this, "image");
  image.choice("alpha", &c.image.alpha, {"white", "drop"}, "transparency: composite over white, or drop it");
  image.integer("max_pixels", &c.image.max_pixels, Range::at_least(1), "largest decoded image, pixels");
  image.integer("max_file_bytes", &c.image.max_file_bytes, Range::at_least(1), "largest image file, bytes");

  SchemaBuilder rollout(*this, "rollout");
  rollout.integer("workers", &c.rollout.workers, Range::at_least(1), "rollout worker processes started by seer run");
  rollout.integer("group_size", &c.rollout.group_size, Range::at_least(1), "G: completions per prompt");
  rollout.number("temperature", &c.rollout.temperature, Range::closed(0, 10), "sampling temperature (0 = greedy)");
  rollout.number("top_p", &c.rollout.top_p, Range::left_open(0, 1), "nucleus sampling mass (1 = off)");
  rollout.integer("top_k", &c.rollout.top_k, Range::at_least(0), "top-k sampling (0 = off)");
  rollout.integer("max_new_tokens", &c.rollout.max_new_tokens, Range::at_least(1), "completion length limit, tokens");
  rollout.integer("prompts_per_call", &c.rollout.prompts_per_call, Range::at_least(1), "prompts per generation call");
  rollout.integer("preprocess_threads", &c.rollout.preprocess_threads, Range::at_least(1),
                  "threads for templating and image preprocessing");
  rollout.text_list("stop", &c.rollout.stop, "extra stop strings: a completion ends with the first one (trained and scored up to it)");
  rollout.integer("max_staleness", &c.rollout.max_staleness, Range::at_least(0),
                  "oldest usable trajectory, in weight versions behind the learner");
  rollout.number("lease_timeout_seconds", &c.rollout.lease_timeout_seconds, Range::greater_than(0),
                 "prompts not returned within this are handed out again");
  rollout.number("coordinator_patience_seconds", &c.rollout.coordinator_patience_seconds, Range::at_least(0),
                 "a worker exits when the coordinator has not answered for this long (0 = wait forever)");

  SchemaBuilder reward(*this, "reward");
  reward.text("address", &c.reward.address, "listen address host:port of seer reward (port 0 = free port)");
  reward.integer("threads", &c.reward.threads, Range::closed(1, 1024), "scoring threads");
  reward.number("sample_budget_seconds", &c.reward.sample_budget_seconds, Range::greater_than(0),
                "time budget per sample; over it the sample is UNSCORABLE");
  reward.number("request_timeout_seconds", &c.reward.request_timeout_seconds, Range::greater_than(0),
                "client deadline per Score call");
  reward.integer("max_request_bytes", &c.reward.max_request_bytes, Range::closed(1024, 1 << 30),
                 "largest accepted Score request");
  reward.integer("max_samples_per_request", &c.reward.max_samples_per_request, Range::closed(1, 1 << 24),
                 "Score requests with more samples are refused (RESOURCE_EXHAUSTED)");
  reward.number_map("weights", &c.reward.weights, kRewardComponents, Range::any(),
                    "weight of each reward component in the total");
  reward.number("numeric_rel_tol", &c.reward.numeric_rel_tol, Range::closed(0, 1), "relative tolerance of numbers");
  reward.choice("bbox_frame", &c.reward.bbox_frame, {"absolute", "norm1000", "norm1"}, "frame of predicted boxes");
  reward.text("auth_token_file", &c.reward.auth_token_file, "file holding the bearer token (\"\" = none)");
  reward.text("auth_token_env", &c.reward.auth_token_env, "environment variable holding the bearer token");

  SchemaBuilder algorithm(*this, "algorithm");
  algorithm.choice("name", &c.algorithm.name, {"grpo", "sft"}, "training algorithm");
  algorithm.choice("advantage", &c.algorithm.advantage, {"grpo", "rloo", "reinforce_pp_baseline"},
                   "advantage estimator");
  algorithm.choice("scale", &c.algorithm.scale, {"std", "none"}, "divide advantages by the group std (none = Dr.GRPO)");
  algorithm.choice("loss_aggregation", &c.algorithm.loss_aggregation,
                   {"token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"}, "how token losses are averaged");
  algorithm.number("eps_low", &c.algorithm.eps_low, Range::half_open(0, 1), "clip range below 1");
  algorithm.number("eps_high", &c.algorithm.eps_high, Range::at_least(0), "clip range above 1");
  algorithm.flag("sequence_level_ratio", &c.algorithm.sequence_level_ratio, "GSPO sequence-level ratio");
  algorithm.number("kl_coef", &c.algorithm.kl_coef, Range::at_least(0), "beta of the KL penalty (0 = no reference)");
  algorithm.choice("kl_estimator", &c.algorithm.kl_estimator, {"k1", "k2", "k3"}, "KL estimator");
  algorithm.choice("kl_in", &c.algorithm.kl_in, {"loss", "reward"}, "where the KL penalty goes");
  algorithm.integer("ppo_epochs", &c.algorithm.ppo_epochs, Range::at_least(1), "passes over one rollout batch");
  algorithm.integer("mini_batches", &c.algorithm.mini_batches, Range::at_least(1), "optimizer steps per epoch");
  algorithm.flag("dynamic_sampling", &c.algorithm.dynamic_sampling, "drop groups with equal rewards");
  algorithm.integer("overlong_buffer_tokens", &c.algorithm.overlong_buffer_tokens, Range::at_least(0),
                    "soft overlong penalty window, tokens (0 = off)");
  algorithm.number("overlong_penalty", &c.algorithm.overlong_penalty, Range::at_least(0),
                   "penalty at max_new_tokens");
  algorithm.number("entropy_coef", &c.algorithm.entropy_coef, Range::at_least(0),
                   "entropy bonus: loss minus coef x mean token entropy (0 = off)");

  SchemaBuilder trainer(*this, "trainer");
  trainer.integer("steps", &c.trainer.steps, Range::at_least(1), "learner steps");
  trainer.integer("prompts_per_step", &c.trainer.prompts_per_step, Range::at_least(1), "prompts per step");
  trainer.integer("micro_batch_size", &c.trainer.micro_batch_size, Range::at_least(1),
                  "sequences per forward/backward pass");
  trainer.number("lr", &c.trainer.lr, Range::greater_than(0), "peak learning rate");
  trainer.number("projector_lr", &c.trainer.projector_lr, Range::at_least(0),
                 "peak learning rate of the projector (0 = lr)");
  trainer.number("vision_tower_lr", &c.trainer.vision_tower_lr, Range::at_least(0),
                 "peak learning rate of a trained vision tower (0 = lr)");
  trainer.choice("lr_schedule", &c.trainer.lr_schedule, {"constant", "linear", "cosine"}, "decay after warm-up");
  trainer.integer("warmup_steps", &c.trainer.warmup_steps, Range::at_least(0), "linear warm-up steps");
  trainer.number("weight_decay", &c.trainer.weight_decay, Range::at_least(0), "AdamW weight decay");
  trainer.number("adam_beta1", &c.trainer.adam_beta1, Range::half_open(0, 1), "AdamW beta1");
  trainer.number("adam_beta2", &c.trainer.adam_beta2, Range::half_open(0, 1), "AdamW beta2");
  trainer.number("adam_eps", &c.trainer.adam_eps, Range::greater_than(0), "AdamW epsilon");
  trainer.number("max_grad_norm", &c.trainer.max_grad_norm, Range::at_least(0), "gradient clipping (0 = off)");
  trainer.integer("allreduce_bucket_bytes", &c.trainer.allreduce_bucket_bytes, Range::at_least(1024),
                  "gradient bucket size for all-reduce, bytes");
  trainer.flag("shard_optimizer", &c.trainer.shard_optimizer,
               "shard AdamW state and the gradient sum across learner ranks (ZeRO 1-2); checkpoints unchanged");
  trainer.choice("overlap_allreduce", &c.trainer.overlap_allreduce, {"auto", "on", "off"},
                 "gradients live in persistent flat buckets, each all-reduced as soon as backward completes it "
                 "(auto = on; not with shard_optimizer; off: one copy into temporary buckets after backward)");
  trainer.flag("gradient_checkpointing", &c.trainer.gradient_checkpointing,
               "recompute each decoder layer's activations in backward: same gradients, less memory, ~1/3 more compute");
  trainer.flag("share_prompts", &c.trainer.share_prompts,
               "GRPO: each group's prompt (image tokens included) runs once per micro-batch and its samples attend to "
               "its keys: same log-probs and gradients, the prompt's work once instead of once per sample (the "
               "policy pass shares only without gradient_checkpointing)");

  SchemaBuilder checkpoint(*this, "checkpoint");
  checkpoint.text("dir", &c.checkpoint.dir, "checkpoint folder (\"\" = <run_dir>/checkpoints)");
  checkpoint.integer("every_steps", &c.checkpoint.every_steps, Range::at_least(0), "save interval (0 = at the end)");
  checkpoint.integer("keep_last", &c.checkpoint.keep_last, Range::at_least(0), "checkpoints kept (0 = all)");
  checkpoint.choice("resume", &c.checkpoint.resume, {"auto", "required", "never"},
                    "continue from the newest intact checkpoint: if any (auto), or fail without one (required)");

  SchemaBuilder metrics(*this, "metrics");
  metrics.flag("prometheus", &c.metrics.prometheus, "expose /metrics on every process");
  metrics.text("address", &c.metrics.address, "interface the /metrics endpoints bind to");
  metrics.integer("port", &c.metrics.port, Range::closed(0, kMaxPort), "first /metrics port (0 = free ports)");
  metrics.flag("jsonl", &c.metrics.jsonl, "write <run_dir>/metrics.jsonl");
  metrics.integer("log_every_steps", &c.metrics.log_every_steps, Range::at_least(1), "step summary interval");
  metrics.number("entropy_floor", &c.metrics.entropy_floor, Range::at_least(0),
                 "warn when a GRPO step's token entropy (nats) is below this (0 = off)");
  metrics.number("no_signal_fraction", &c.metrics.no_signal_fraction, Range::closed(0, 1),
                 "warn when more than this fraction of a step's groups has equal rewards (1 = off)");

  SchemaBuilder cluster(*this, "cluster");
  cluster.integer("learner_ranks", &c.cluster.learner_ranks, Range::closed(1, 65536), "learner world size");
  cluster.choice("communicator", &c.cluster.communicator, {"auto", "mpi", "nccl"}, "gradient all-reduce backend");
  cluster.text("bind_address", &c.cluster.bind_address, "interface the coordinator listens on");
  cluster.integer("coordinator_port", &c.cluster.coordinator_port, Range::closed(0, kMaxPort),
                  "coordinator port (0 = free port)");
  cluster.text("auth_token_file", &c.cluster.auth_token_file, "coordinator bearer token file (\"\" = none)");
  cluster.text("auth_token_env", &c.cluster.auth_token_env, "environment variable holding the coordinator token");
  cluster.integer("weight_chunk_bytes", &c.cluster.weight_chunk_bytes, Range::at_least(1024),
                  "payload of one streamed weight chunk, bytes");
  cluster.integer("max_message_bytes", &c.cluster.max_message_bytes, Range::closed(1 << 20, 2147483647LL),
                  "largest coordinator message, bytes");
  cluster.integer("max_groups_per_push", &c.cluster.max_groups_per_push, Range::closed(1, 1 << 24),
                  "groups one PushGroups stream may carry; the rest are refused (their prompts are leased again)");
  cluster.text("tls_cert_file", &c.cluster.tls_cert_file,
               "PEM certificate the reward service and coordinator present (with tls_ca_file: TLS on)");
  cluster.text("tls_key_file", &c.cluster.tls_key_file, "PEM private key of tls_cert_file");
  cluster.text("tls_ca_file", &c.cluster.tls_ca_file,
               "PEM CA that signed the services' certificates; clients verify against it (\"\" = plain text)");
  cluster.text("tls_server_name", &c.cluster.tls_server_name,
               "name clients check in the services' certificates instead of the address's host (\"\" = the host)");
  cluster.text("mpirun", &c.cluster.mpirun, "mpirun executable");
  cluster.text_list("mpirun_args", &c.cluster.mpirun_args, "extra mpirun arguments");

  SchemaBuilder compute(*this, "compute");
  compute.choice("matmul", &c.compute.matmul, {"auto", "blas", "onednn"},
                 "fp32 linear layers: BLAS, oneDNN, or auto (the faster, measured at start-up)");
  compute.choice("learner_dtype", &c.compute.learner_dtype, {"float32", "bfloat16", "auto"},
                 "matmul dtype of learner passes (float32 master weights and optimizer state); auto: bfloat16 when "
                 "measured faster on the device and the model's log-probs move by at most 0.02 nats/token");
  compute.choice("rollout_dtype", &c.compute.rollout_dtype, {"float32", "bfloat16", "auto"},
                 "matmul dtype of generation and evaluation; auto: as for learner_dtype");
  compute.integer("threads", &c.compute.threads, Range::at_least(0),
                  "intra-op threads per process (0 = the plan: all cores of the host for the processes that compute "
                  "at the same time; with rollout.max_staleness 0 learner and workers alternate, so each gets all)");
  compute.integer("learner_threads", &c.compute.learner_threads, Range::at_least(0),
                  "intra-op threads of each learner rank (0 = compute.threads)");
  compute.integer("rollout_threads", &c.compute.rollout_threads, Range::at_least(0),
                  "intra-op threads of each rollout worker (0 = compute.threads)");
}

}  // namespace seer
