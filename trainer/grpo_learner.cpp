#include "trainer/grpo_learner.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/atomic_file.h"
#include "core/check.h"
#include "dataset/jsonl_reader.h"
#include "trainer/algorithm_options.h"
#include "trainer/batch_exchange.h"
#include "trainer/collapse_watch.h"
#include "trainer/coordinator.h"
#include "trainer/group_proto.h"
#include "trainer/grpo_update.h"
#include "trainer/lr_schedule.h"
#include "trainer/step_metrics.h"
#include "trainer/weight_store.h"

namespace seer::trainer {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// The frozen reference model (model.reference_path, else model.path: never a resumed checkpoint).
std::unique_ptr<model::Vlm> load_reference(const ExperimentConfig& c, const std::string& device) {
  model::LoadOptions lo;
  lo.device = device;
  lo.freeze_vision_tower = true;
  auto ref = model::Vlm::load(c.model.reference_path.empty() ? c.model.path : c.model.reference_path, lo);
  for (auto& [name, p] : ref->named_parameters()) p.set_requires_grad(false);
  ref->set_train(false);
  return ref;
}

/// host:port for workers on other hosts: a wildcard bind address (0.0.0.0, ::) becomes this host's name.
std::string reachable_address(const std::string& bind, int port) {
  if (bind != "0.0.0.0" && bind != "::" && bind != "[::]") return bind + ":" + std::to_string(port);
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) return "127.0.0.1:" + std::to_string(port);
  return std::string(host) + ":" + std::to_string(port);
}

/// Rank 0's side: the coordinator and its rows.
std::unique_ptr<Coordinator> start_coordinator(const ExperimentConfig& c, const LearnerEnvironment& env,
                                               const LearnerCore& core,
                                               const std::shared_ptr<prometheus::Registry>& registry) {
  auto data = dataset::read_jsonl(c.data.train, dataset::read_options(c.data));
  if (!data.bad.empty()) spdlog::warn("{}", dataset::skipped_rows_summary(data));
  SEER_CHECK(!data.rows.empty(), "{}: no usable rows", c.data.train);
  for (const auto& row : data.rows) {
    SEER_CHECK(!row.is_conversation(), "{}:{}: a conversation row; GRPO needs problem/solution rows ({}, {})",
               c.data.train, row.line, c.data.question_field, c.data.answer_field);
  }
  CoordinatorOptions o;
  o.address = c.cluster.bind_address + ":" + std::to_string(c.cluster.coordinator_port);
  o.auth_token = env.coordinator_auth_token;
  o.tls = env.coordinator_tls;
  o.lease_seconds = c.rollout.lease_timeout_seconds;
  o.max_staleness = c.rollout.max_staleness;
  o.prompts_per_step = c.trainer.prompts_per_step;
  o.dynamic_sampling = c.algorithm.dynamic_sampling;
  o.chunk_bytes = c.cluster.weight_chunk_bytes;
  o.max_message_bytes = c.cluster.max_message_bytes;
  o.max_groups_per_push = c.cluster.max_groups_per_push;
  o.skip_prompts = core.state.done_prompts;
  o.image_inputs = core.inputs->image_inputs();
  o.metrics = registry;
  const auto rows = static_cast<int64_t>(data.rows.size());
  DataOrder order(rows, core.state.seed, c.data.shuffle, core.state.epoch, core.state.cursor);
  auto coord = std::make_unique<Coordinator>(o, std::move(data.rows), std::move(order));
  const std::string file = (fs::path(c.resolved_run_dir()) / "coordinator.address").string();
  fs::create_directories(c.resolved_run_dir());
  write_file_atomic(file, reachable_address(c.cluster.bind_address, coord->port()) + "\n");
  spdlog::info("coordinator listening on {}{}{} ({} rows; written to {}); rollout workers: seer rollout --config CONFIG "
               "--coordinator {}", coord->address(), o.tls.enabled() ? ", TLS" : "",
               o.auth_token.empty() ? "" : ", bearer token required", rows, file, coord->address());
  return coord;
}

/// Appends the step's groups to RUN_DIR/groups.jsonl (rank 0): what was trained on, by prompt id.
void log_groups(std::ofstream& out, int64_t step, int64_t version, const std::vector<Group>& groups) {
  nlohmann::json line{{"step", step}, {"weight_version", version}};
  auto& list = line["groups"] = nlohmann::json::array();
  for (const auto& g : groups) {
    nlohmann::json rewards = nlohmann::json::array();
    int64_t gv = g.completions.empty() ? version : g.completions.front().weight_version;
    nlohmann::json answers = nlohmann::json::array();
    for (const auto& comp : g.completions) {
      rewards.push_back(comp.reward ? nlohmann::json(*comp.reward) : nlohmann::json());
      answers.push_back(comp.answer);
    }
    list.push_back({{"id", g.prompt_id}, {"weight_version", gv}, {"images", g.images.size()}, {"rewards", rewards},
                    {"answers", answers}});
  }
  out << line.dump() << "\n";
  out.flush();
}

}  // namespace

LearnerResult run_grpo_learner(const ExperimentConfig& c, const std::string& config_yaml, Communicator& comm,
                               std::shared_ptr<prometheus::Registry> registry, const std::atomic<bool>& stop,
                               const LearnerEnvironment& env, LearnerCore& core) {
  const bool rank0 = comm.rank() == 0;
  LearnerResult result;
  auto& state = core.state;
  std::unique_ptr<Coordinator> coord;
  if (rank0) {
    coord = start_coordinator(c, env, core, registry);
    auto v = snapshot_weights(core.trainable, state.weight_version);
    spdlog::info("weights v{} published (checksum {:08x})", v.version, v.checksum);
    coord->publish(std::move(v));
  }
  // With LoRA the reference model is the policy with its adapters switched off (no second copy of the weights).
  std::unique_ptr<model::Vlm> reference;
  const bool lora = core.policy->lora().rank > 0;
  if (c.algorithm.kl_coef > 0 && !lora) reference = load_reference(c, core.device);
  model::Vlm* reference_model = lora && c.algorithm.kl_coef > 0 ? core.policy.get() : reference.get();
  PolicyUpdateOptions po = policy_update_options(c, core.inputs->pad_id());
  po.reducer = core.reducer.get();
  const AdvantageOptions ao = advantage_options(c.algorithm);
  const LrSchedule schedule = parse_lr_schedule(c.trainer.lr_schedule);
  StepMetrics metrics(rank0 ? registry : nullptr,
                      rank0 && c.metrics.jsonl ? (fs::path(c.resolved_run_dir()) / "metrics.jsonl").string() : "");
  std::ofstream groups_log;
  if (rank0) groups_log.open(fs::path(c.resolved_run_dir()) / "groups.jsonl", std::ios::app);
  if (rank0) {
    spdlog::info("GRPO: {} steps of {} prompts x {} samples on {} rank(s), max staleness {}, kl_coef {}", c.trainer.steps,
                 c.trainer.prompts_per_step, c.rollout.group_size, comm.world_size(), c.rollout.max_staleness,
                 reference_model ? c.algorithm.kl_coef : 0.0);
  }
  // Every rank must take the same decision to save (it is collective): result.checkpoint is rank 0's only.
  bool saved_any = false;
  auto checkpoint = [&] {
    if (coord) {
      std::tie(state.epoch, state.cursor) = coord->resume_position();
      state.done_prompts = coord->done_after_resume_position();
    }
    const std::string dir = core.save(c, config_yaml, comm);
    if (rank0) result.checkpoint = dir;
    saved_any = true;
  };

  CollapseWatch collapse({c.metrics.entropy_floor, c.metrics.no_signal_fraction, 10});
  int64_t since_checkpoint = 0;
  while (state.step < c.trainer.steps) {
    const auto t_step = Clock::now();
    double wait_seconds = 0;
    const std::string bytes = receive_batch(coord.get(), comm, c.trainer.prompts_per_step, state.weight_version,
                                            stop, wait_seconds);
    if (bytes.empty()) {
      result.stopped = true;
      break;
    }
    std::vector<Group> groups = parse_step_batch(bytes);
    assign_advantages(groups, ao);
    assign_mini_batches(groups, po.mini_batches);
    std::vector<Group> local;
    for (size_t i = static_cast<size_t>(comm.rank()); i < groups.size(); i += static_cast<size_t>(comm.world_size())) {
      Group g = groups[i];
      for (const std::string& image : g.images) g.pixel_values.push_back(core.inputs->pixel_values(image));
      local.push_back(std::move(g));
    }
    const double lr = learning_rate(schedule, c.trainer.lr, state.step, c.trainer.warmup_steps, c.trainer.steps);
    core.optimizer->set_lr(lr);
    const PolicyUpdateStats st = policy_update(*core.policy, reference_model, *core.optimizer, comm, local, po);
    const int64_t trained_version = state.weight_version;
    ++state.step;
    ++state.weight_version;
    ++since_checkpoint;
    result.steps_done = state.step;
    result.last_loss = st.loss;
    if (rank0) {
      const auto t_pub = Clock::now();
      auto published = snapshot_weights(core.trainable, state.weight_version);
      const uint64_t checksum = published.checksum;
      coord->publish(std::move(published));
      coord->done(groups);
      const double publish_seconds = since(t_pub);
      log_groups(groups_log, state.step, trained_version, groups);
      // Rewards and statuses of the step's samples.
      std::map<std::string, double> values;
      std::map<std::string, double> component_sum;
      double reward_sum = 0, scored = 0, staleness = 0;
      for (const auto& g : groups) {
        for (const auto& comp : g.completions) {
          staleness = std::max(staleness, static_cast<double>(trained_version - comp.weight_version));
          values["status/" + (comp.status.empty() ? std::string("unknown") : comp.status)] += 1;
          if (!comp.reward) continue;
          reward_sum += *comp.reward;
          scored += 1;
          for (const auto& [name, v] : comp.components) component_sum[name] += v;
        }
      }
      // Thread counts (the thread plan, README "Threads") and rollout speed, so a step's time can be explained.
      double rollout_tokens = 0, rollout_seconds = 0, rollout_threads = 0, reported = 0;
      for (const auto& g : groups) {
        if (g.rollout_threads <= 0) continue;
        for (const auto& comp : g.completions) rollout_tokens += static_cast<double>(comp.tokens.size());
        rollout_seconds += g.generate_seconds;
        rollout_threads += g.rollout_threads;
        reported += 1;
      }
      values["threads/learner"] = at::get_num_threads();
      if (reported > 0) {
        values["threads/rollout"] = rollout_threads / reported;
        values["rollout/tokens_per_second"] = rollout_tokens / std::max(rollout_seconds, 1e-9);
      }
      for (const auto& [name, sum] : component_sum) values["reward/" + name] = sum / std::max(scored, 1.0);
      if (component_sum.count("accuracy")) values["accuracy"] = values["reward/accuracy"];
      const GroupSignal signal = group_signal(groups);
      values["groups/equal_reward_fraction"] = signal.equal_reward_fraction;
      values["groups/distinct_answers"] = signal.distinct_answers_mean;
      values["groups/accuracy_spread"] = signal.accuracy_spread;
      for (const std::string& warning : collapse.check(state.step, st.entropy, signal)) spdlog::warn("{}", warning);
      const auto counts = coord->counts();
      const double seconds = since(t_step);
      values.insert({{"loss", st.loss},
                     {"kl", st.kl},
                     {"entropy", st.entropy},
                     {"clip_fraction", st.clip_fraction},
                     {"grad_norm", st.grad_norm},
                     {"lr", lr},
                     {"weight_version", static_cast<double>(state.weight_version)},
                     {"weight_checksum", static_cast<double>(checksum)},
                     {"reward_mean", reward_sum / std::max(scored, 1.0)},
                     {"staleness", staleness},
                     {"logprob_mismatch", st.logprob_mismatch},
                     {"tokens", st.tokens},
                     {"padding_fraction", st.padding_fraction},
                     {"tokens_per_second", st.tokens / std::max(seconds - wait_seconds, 1e-9)},
                     {"allreduce_busbw", st.allreduce_bus_bandwidth},
                     {"phase/wait_rollout", wait_seconds},
                     {"phase/old_logprobs", st.seconds_old},
                     {"phase/ref_logprobs", st.seconds_ref},
                     {"phase/update", st.seconds_update},
                     {"phase/allreduce", st.seconds_allreduce},
                     {"phase/publish", publish_seconds},
                     {"phase/step", seconds},
                     {"groups/accepted", static_cast<double>(counts.accepted)},
                     {"groups/duplicate", static_cast<double>(counts.duplicate)},
                     {"groups/stale", static_cast<double>(counts.stale)},
                     {"groups/unknown", static_cast<double>(counts.unknown)},
                     {"groups/checksum_mismatch", static_cast<double>(counts.checksum_mismatch)},
                     {"groups/equal_rewards", static_cast<double>(counts.equal_rewards)},
                     {"groups/unusable", static_cast<double>(counts.unusable)},
                     {"prompts/reissued", static_cast<double>(counts.reissued)},
                     {"weight_sync_bytes", static_cast<double>(counts.weight_bytes_sent)}});
      metrics.record(state.step, values);
      if (c.metrics.log_every_steps > 0 && (state.step % c.metrics.log_every_steps == 0 || state.step == c.trainer.steps)) {
        spdlog::info("step {}/{} | reward {:.3f} | loss {:.4f} | kl {:.4f} | entropy {:.3f} | no-signal groups {:.2f} "
                     "| answers/group {:.2f} | clip {:.3f} | grad norm {:.3f} | staleness {:.0f} | wait {:.1f} s | {:.1f} s",
                     state.step, c.trainer.steps, values["reward_mean"], st.loss, st.kl, st.entropy,
                     signal.equal_reward_fraction, signal.distinct_answers_mean, st.clip_fraction, st.grad_norm,
                     staleness, wait_seconds, seconds);
      }
    }
    if (c.checkpoint.every_steps > 0 && state.step % c.checkpoint.every_steps == 0) {
      checkpoint();
      since_checkpoint = 0;
    }
  }
  if (since_checkpoint > 0 || (!saved_any && core.resume_dir.empty())) checkpoint();
  if (result.checkpoint.empty() && !core.resume_dir.empty()) result.checkpoint = core.resume_dir;
  if (coord) {
    coord->finish();
    coord->wait_for_workers_to_leave(30.0);  // returns as soon as every worker still around was told
    const auto n = coord->counts();
    spdlog::info("coordinator: {} groups accepted, {} duplicate, {} stale, {} unusable, {} prompt leases re-issued",
                 n.accepted, n.duplicate, n.stale, n.unusable, n.reissued);
  }
  result.steps_done = state.step;
  return result;
}

}  // namespace seer::trainer
