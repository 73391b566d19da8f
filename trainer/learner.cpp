#include "trainer/learner.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <unordered_map>

#include <torch/torch.h>
#include <spdlog/spdlog.h>

#include "core/check.h"
#include "dataset/jsonl_reader.h"
#include "model/inputs.h"
#include "model/linear.h"
#include "model/precision_choice.h"
#include "model/vlm.h"
#include "trainer/checkpoint.h"
#include "trainer/grpo_learner.h"
#include "trainer/learner_core.h"
#include "trainer/rank_device.h"
#include "trainer/data_order.h"
#include "trainer/lr_schedule.h"
#include "trainer/optimizer.h"
#include "trainer/sft_update.h"
#include "trainer/sharded_optimizer.h"
#include "trainer/step_metrics.h"

namespace seer::trainer {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string rng_bytes() {
  at::Tensor s = at::detail::getDefaultCPUGenerator().get_state();
  return std::string(reinterpret_cast<const char*>(s.data_ptr<uint8_t>()), static_cast<size_t>(s.numel()));
}

void restore_rng(const std::string& bytes) {
  if (bytes.empty()) return;
  at::Tensor s = at::empty({static_cast<int64_t>(bytes.size())}, at::kByte);
  std::memcpy(s.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  at::Generator gen = at::detail::getDefaultCPUGenerator();  // a handle sharing the default generator
  gen.set_state(s);
}

/// checkpoint.resume: never in a folder that has checkpoints: they are moved aside (never deleted) so the new
/// run's `latest` and keep_last pruning see only its own.
void move_old_checkpoints_aside(const std::string& root) {
  if (list_checkpoints(root).empty()) return;
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", std::gmtime(&now));
  const std::string aside = root + ".before-" + stamp;
  std::error_code ec;
  fs::rename(root, aside, ec);
  SEER_CHECK(!ec, "{}: cannot move the old checkpoints aside to {}: {}", root, aside, ec.message());
  spdlog::warn("checkpoint.resume: never: moved the existing checkpoints to {}", aside);
}

/// Rank 0 picks the checkpoint to resume from (it logs why); every rank gets its step (-1 = none).
std::string agree_on_resume(const ExperimentConfig& c, Communicator& comm) {
  const std::string root = checkpoint_root(c);
  at::Tensor step = at::full({1}, -1.0, at::kDouble);
  if (comm.rank() == 0 && c.checkpoint.resume == "never") move_old_checkpoints_aside(root);
  if (comm.rank() == 0 && c.checkpoint.resume != "never") {
    if (auto dir = find_resumable_checkpoint(root)) step[0] = static_cast<double>(read_trainer_state(*dir).step);
  }
  comm.broadcast(step, 0);
  SEER_CHECK(step[0].item<double>() >= 0 || c.checkpoint.resume != "required",
             "checkpoint.resume: required, but {} holds no intact checkpoint", root);
  const auto s = static_cast<int64_t>(step[0].item<double>());
  return s < 0 ? "" : (fs::path(root) / fmt::format("step-{:08d}", s)).string();
}

/// cluster.communicator for a rank on `device`: NCCL beside MPI for a GPU learner (auto, nccl) with more than one
/// rank, nothing (the launcher's communicator) otherwise. Collective. Throws seer::Error for nccl on a CPU.
std::unique_ptr<Communicator> device_collectives(const ExperimentConfig& c, Communicator& base, const std::string& device) {
  const bool gpu = device.rfind("cuda", 0) == 0;
  SEER_CHECK(gpu || c.cluster.communicator != "nccl",
             "cluster.communicator: nccl needs the learner on a GPU, but model.device resolved to {}", device);
  if (!gpu || c.cluster.communicator == "mpi" || base.world_size() == 1) return nullptr;
  const int index = device.size() > 5 ? std::stoi(device.substr(5)) : 0;
  auto routed = make_routed_communicator(base, make_nccl_communicator(index));
  if (base.rank() == 0) spdlog::info("collectives: {} (NCCL for GPU tensors, MPI for host ones)", routed->name());
  return routed;
}

/// One SFT row as a training sequence (cached: rows are tokenized once per run).
struct SftCache {
  std::unordered_map<int64_t, Sequence> sequences;
  std::unordered_map<int64_t, std::string> bad;  ///< row -> why it cannot be used
};

}  // namespace

LearnerCore load_learner_core(const ExperimentConfig& c, Communicator& base) {
  LearnerCore core;
  core.device = rank_device(c, base);
  core.routed = device_collectives(c, base, core.device);
  Communicator& comm = core.collectives(base);
  core.resume_dir = agree_on_resume(c, comm);
  const std::string model_dir = core.resume_dir.empty() ? c.model.path : (fs::path(core.resume_dir) / "model").string();
  model::LoadOptions lo;
  lo.device = core.device;
  lo.freeze_vision_tower = c.model.freeze_vision_tower;
  lo.lora = model::lora_spec(c.model.lora);  // a resumed LoRA checkpoint is an adapter folder: its own settings
  lo.lora_seed = static_cast<uint64_t>(c.seed);
  core.policy = model::Vlm::load(model_dir, lo);
  core.policy->set_train(true);
  core.policy->set_gradient_checkpointing(c.trainer.gradient_checkpointing);
  if (c.compute.learner_dtype == "auto") {
    // Every rank measures; bf16 only if all of them chose it (ranks must compute alike).
    const model::PrecisionChoice mine = model::choose_precision(*core.policy);
    at::Tensor votes = at::full({1}, mine.dtype == at::kBFloat16 ? 1.0 : 0.0, at::kDouble);
    base.all_reduce_sum(votes);
    const bool all_bf16 = votes.item<double>() == static_cast<double>(base.world_size());
    model::set_compute_dtype(all_bf16 ? at::kBFloat16 : at::kFloat);
    spdlog::info("compute: learner matmuls in {} (auto; rank {}: {}{})", all_bf16 ? "bfloat16" : "float32", base.rank(),
                 mine.why, all_bf16 == (mine.dtype == at::kBFloat16) ? "" : "; another rank chose float32");
  }
  core.inputs = std::make_unique<model::ModelInputs>(
      model::ModelInputs::load(model_dir, core.policy->config(), model::input_options(c)));
  core.side_files = read_model_side_files(model_dir);
  for (const auto& [name, p] : core.policy->named_parameters()) {
    if (p.requires_grad()) core.trainable[name] = p;
  }
  AdamWOptions ao;
  ao.lr = c.trainer.lr;
  ao.beta1 = c.trainer.adam_beta1;
  ao.beta2 = c.trainer.adam_beta2;
  ao.eps = c.trainer.adam_eps;
  ao.weight_decay = c.trainer.weight_decay;
  const model::VlmConfig& policy_config = core.policy->config();
  for (const auto& prefix : policy_config.projector_prefixes()) {
    if (c.trainer.projector_lr > 0) ao.lr_scale_by_prefix[prefix] = c.trainer.projector_lr / c.trainer.lr;
  }
  for (const auto& prefix : policy_config.vision_tower_prefixes()) {
    if (c.trainer.vision_tower_lr > 0) ao.lr_scale_by_prefix[prefix] = c.trainer.vision_tower_lr / c.trainer.lr;
  }
  core.optimizer = std::make_unique<AdamW>(core.trainable, ao);
  // auto: on for every multi-rank learner. With NCCL the buckets overlap backward; with MPI (which blocks the
  // backward thread) they still save the copies into and out of temporary buckets: bench/learner_bench measured
  // the persistent buckets at 1.02-1.04x a raw MPI_Allreduce of the same bytes, the copy path at 0.55-0.58x.
  const bool overlap = c.trainer.overlap_allreduce == "on" || c.trainer.overlap_allreduce == "auto";
  if (overlap && !c.trainer.shard_optimizer && comm.world_size() > 1) {
    std::vector<at::Tensor> params;
    for (const auto& [name, p] : core.trainable) params.push_back(p);
    core.reducer = std::make_unique<GradientReducer>(params, comm, c.trainer.allreduce_bucket_bytes);
    if (comm.rank() == 0) {
      spdlog::info("gradients all-reduced during backward: {} buckets of up to {} KiB", core.reducer->buckets(),
                   c.trainer.allreduce_bucket_bytes >> 10);
    }
  }
  if (c.trainer.shard_optimizer) {
    core.optimizer->shard_across(comm);
    if (comm.rank() == 0) {
      const ShardedAdamW& sharded = *core.optimizer->sharded();
      spdlog::info("optimizer state and gradients sharded across {} ranks: {} of {} elements per rank",
                   comm.world_size(), sharded.shard_elements(), sharded.total_elements());
    }
  }
  core.state.seed = static_cast<uint64_t>(c.seed);
  if (!core.resume_dir.empty()) {
    core.state = read_trainer_state(core.resume_dir);
    load_optimizer_state(core.resume_dir, *core.optimizer);
    restore_rng(core.state.rng_state);
    if (c.compute.matmul == "auto" && !core.state.matmul.empty() &&
        core.state.matmul != model::to_string(model::matmul_backend())) {
      // The start-up measurement can flip under load; the checkpoint's choice keeps the resume bit-exact.
      model::set_matmul_backend(model::parse_matmul_backend(core.state.matmul));
      if (comm.rank() == 0) spdlog::info("linear layers on {}, as in the checkpoint", core.state.matmul);
    }
    if (c.compute.threads == 0 && c.compute.learner_threads == 0 && core.state.threads > 0 &&
        core.state.threads != at::get_num_threads()) {
      // The thread plan depends on the host's cores; the checkpoint's count keeps the resume bit-exact.
      if (comm.rank() == 0) {
        spdlog::info("{} intra-op threads, as in the checkpoint (the plan gave {}; set compute.learner_threads to "
                     "choose)", core.state.threads, at::get_num_threads());
      }
      at::set_num_threads(static_cast<int>(core.state.threads));
    }
    if (comm.rank() == 0) {
      spdlog::info("resuming from {} (step {}, weight version {})", core.resume_dir, core.state.step,
                   core.state.weight_version);
    }
  }
  return core;
}

std::string LearnerCore::save(const ExperimentConfig& c, const std::string& config_yaml, Communicator& comm) {
  std::string dir;
  state.rng_state = rng_bytes();
  state.matmul = model::to_string(model::matmul_backend());
  state.threads = at::get_num_threads();
  optimizer->collect_state();  // collective when sharded: every rank sends its shard of the state
  if (comm.rank() == 0) {
    const auto t = Clock::now();
    dir = save_checkpoint(checkpoint_root(c), *policy, side_files, *optimizer, state, config_yaml, c.checkpoint.keep_last);
    spdlog::info("checkpoint {} written in {:.1f} s", dir, std::chrono::duration<double>(Clock::now() - t).count());
  }
  comm.barrier();
  return dir;
}

std::string checkpoint_root(const ExperimentConfig& c) {
  return c.checkpoint.dir.empty() ? (fs::path(c.resolved_run_dir()) / "checkpoints").string() : c.checkpoint.dir;
}

LearnerResult run_learner(const ExperimentConfig& c, const std::string& config_yaml, Communicator& base,
                          std::shared_ptr<prometheus::Registry> registry, const std::atomic<bool>& stop,
                          const LearnerEnvironment& env) {
  const bool rank0 = base.rank() == 0;
  LearnerResult result;
  torch::manual_seed(c.seed);

  LearnerCore core = load_learner_core(c, base);
  Communicator& comm = core.collectives(base);
  if (c.algorithm.name != "sft") return run_grpo_learner(c, config_yaml, comm, std::move(registry), stop, env, core);
  auto& policy = core.policy;
  const auto& inputs = *core.inputs;
  auto& optimizer = *core.optimizer;
  auto& state = core.state;
  const auto& trainable = core.trainable;
  const std::string& resume_dir = core.resume_dir;

  const auto data = dataset::read_jsonl(c.data.train, dataset::read_options(c.data));
  if (rank0 && !data.bad.empty()) spdlog::warn("{}", dataset::skipped_rows_summary(data));
  DataOrder order(static_cast<int64_t>(data.rows.size()), state.seed, c.data.shuffle, state.epoch, state.cursor);
  SftCache cache;

  StepMetrics metrics(rank0 ? registry : nullptr,
                      rank0 && c.metrics.jsonl ? (fs::path(c.resolved_run_dir()) / "metrics.jsonl").string() : "");
  const LrSchedule schedule = parse_lr_schedule(c.trainer.lr_schedule);
  SftUpdateOptions so;
  so.micro_batch_size = c.trainer.micro_batch_size;
  so.max_grad_norm = c.trainer.max_grad_norm;
  so.bucket_bytes = c.trainer.allreduce_bucket_bytes;
  so.reducer = core.reducer.get();
  so.pad_id = inputs.pad_id();
  // Every rank must take the same decision to save (it is collective): result.checkpoint is rank 0's only.
  bool saved_any = false;
  auto checkpoint = [&] {
    state.epoch = order.epoch();
    state.cursor = order.cursor();
    const std::string dir = core.save(c, config_yaml, comm);
    if (rank0) result.checkpoint = dir;
    saved_any = true;
  };
  if (rank0) {
    spdlog::info("SFT: {} rows from {}, {} steps of {} rows on {} rank(s), {} trainable parameters", data.rows.size(),
                 c.data.train, c.trainer.steps, c.trainer.prompts_per_step, comm.world_size(), [&] {
                   int64_t n = 0;
                   for (const auto& [name, p] : trainable) n += p.numel();
                   return n;
                 }());
  }

  int64_t since_checkpoint = 0;
  while (state.step < c.trainer.steps) {
    at::Tensor flag = at::full({1}, stop.load() ? 1.0 : 0.0, at::kDouble);
    comm.all_reduce_sum(flag);
    if (flag[0].item<double>() > 0) {
      result.stopped = true;
      break;
    }
    const auto t_step = Clock::now();
    const double lr = learning_rate(schedule, c.trainer.lr, state.step, c.trainer.warmup_steps, c.trainer.steps);
    optimizer.set_lr(lr);
    const auto rows = order.next(c.trainer.prompts_per_step);
    std::vector<Sequence> local;
    std::vector<at::Tensor> pixels;
    int64_t skipped = 0;
    for (size_t i = static_cast<size_t>(comm.rank()); i < rows.size(); i += static_cast<size_t>(comm.world_size())) {
      const int64_t r = rows[i];
      const dataset::Row& row = data.rows[static_cast<size_t>(r)];
      if (cache.bad.count(r)) {
        ++skipped;
        continue;
      }
      try {
        model::PromptImages images = inputs.images(row.images);
        auto it = cache.sequences.find(r);
        if (it == cache.sequences.end()) {
          SEER_CHECK(row.is_conversation(), "{}:{}: not a conversation row; SFT trains on {{\"conversations\": ...}} rows",
                     c.data.train, row.line);
          std::vector<std::pair<std::string, std::string>> turns;
          for (const auto& t : row.conversation) turns.emplace_back(t.role, t.content);
          const auto ex = inputs.sft_example(turns, images.tokens, fmt::format("{}:{}", c.data.train, row.line));
          Sequence s;
          s.ids = ex.ids;
          s.target = ex.target;
          it = cache.sequences.emplace(r, std::move(s)).first;
        }
        Sequence s = it->second;
        for (at::Tensor& px : images.pixel_values) {
          s.images.push_back(static_cast<int64_t>(pixels.size()));
          pixels.push_back(std::move(px));
        }
        local.push_back(std::move(s));
      } catch (const Error& e) {
        spdlog::warn("skipping row: {}", e.what());
        cache.bad[r] = e.what();
        ++skipped;
      }
    }
    const SftUpdateStats st = sft_update(*policy, optimizer, comm, local, pixels, so);
    ++state.step;
    ++state.weight_version;
    ++since_checkpoint;
    const double seconds = std::chrono::duration<double>(Clock::now() - t_step).count();
    result.steps_done = state.step;
    result.last_loss = st.loss;
    if (rank0) {
      metrics.record(state.step, {{"sft_loss", st.loss},
                                  {"grad_norm", st.grad_norm},
                                  {"lr", lr},
                                  {"weight_version", static_cast<double>(state.weight_version)},
                                  {"tokens", st.tokens},
                                  {"sequences", st.sequences},
                                  {"tokens_per_second", st.tokens / std::max(seconds, 1e-9)},
                                  {"allreduce_busbw", st.allreduce_bus_bandwidth},
                                  {"phase/forward_backward", st.seconds_forward_backward},
                                  {"phase/allreduce", st.seconds_allreduce},
                                  {"phase/step", seconds},
                                  {"epoch", static_cast<double>(order.epoch())},
                                  {"skipped_rows", static_cast<double>(skipped)}});
      if (c.metrics.log_every_steps > 0 && (state.step % c.metrics.log_every_steps == 0 || state.step == c.trainer.steps)) {
        spdlog::info("step {}/{} | loss {:.4f} | grad norm {:.3f} | lr {:.2e} | {:.0f} tok/s | {:.2f} s", state.step,
                     c.trainer.steps, st.loss, st.grad_norm, lr, st.tokens / std::max(seconds, 1e-9), seconds);
      }
    }
    if (c.checkpoint.every_steps > 0 && state.step % c.checkpoint.every_steps == 0) {
      checkpoint();
      since_checkpoint = 0;
    }
  }
  if (since_checkpoint > 0 || (!saved_any && resume_dir.empty())) checkpoint();
  if (result.checkpoint.empty() && !resume_dir.empty()) result.checkpoint = resume_dir;
  result.steps_done = state.step;
  return result;
}

}  // namespace seer::trainer
