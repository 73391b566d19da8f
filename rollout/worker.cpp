#include "rollout/worker.h"

#include <chrono>
#include <functional>
#include <thread>

#include <ATen/ATen.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>

#include "core/check.h"
#include "core/gpu_choice.h"
#include "core/thread_pool.h"
#include "model/generate.h"
#include "model/inputs.h"
#include "model/precision_choice.h"
#include "model/vlm.h"
#include "proto/coordinator.pb.h"
#include "rollout/completion.h"
#include "rollout/generation_lanes.h"
#include "trainer/weight_store.h"

namespace seer::rollout {
namespace {

namespace v1 = coordinator::v1;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Metrics {
  explicit Metrics(prometheus::Registry& r)
      : tokens(prometheus::BuildCounter().Name("seer_rollout_tokens_total").Help("Completion tokens generated").Register(r).Add({})),
        tokens_per_second(prometheus::BuildGauge()
                              .Name("seer_rollout_tokens_per_second")
                              .Help("Completion tokens per second of the last generation call")
                              .Register(r)
                              .Add({})),
        sync_seconds(prometheus::BuildGauge()
                         .Name("seer_weight_sync_seconds")
                         .Help("Duration of the last weight sync (fetch + load), seconds")
                         .Register(r)
                         .Add({})),
        sync_bytes(prometheus::BuildCounter().Name("seer_weight_sync_bytes_total").Help("Weight bytes received").Register(r).Add({})),
        version(prometheus::BuildGauge().Name("seer_weight_version").Help("Policy version this worker generates with").Register(r).Add({})),
        groups(prometheus::BuildCounter().Name("seer_rollout_groups_total").Help("Groups pushed, by the coordinator's answer").Register(r)) {
    for (const char* k : {"accepted", "duplicate", "stale", "unknown"}) groups.Add({{"result", k}});
  }
  prometheus::Counter& tokens;
  prometheus::Gauge& tokens_per_second;
  prometheus::Gauge& sync_seconds;
  prometheus::Counter& sync_bytes;
  prometheus::Gauge& version;
  prometheus::Family<prometheus::Counter>& groups;
};

/// How long `with_retry` keeps trying: `when_stopping` seconds once `stop` is set, `patience` seconds in any
/// case (0 = no bound), both counted from the first failure.
struct RetryLimits {
  double when_stopping = 0;
  double patience = 0;
  const char* patience_key = "";  ///< the config key behind `patience`, for the error message
};

/// Calls `fn` until it does not throw seer::Unavailable: backoff 0.2 s doubling to 5 s, a warning at most
/// every 10 s. Rethrows (with how long it waited) when a limit of `limits` is passed.
template <class Fn>
auto with_retry(const char* what, const std::atomic<bool>& stop, const RetryLimits& limits, Fn fn) -> decltype(fn()) {
  double backoff = 0.2;
  std::optional<Clock::time_point> first_failure;
  Clock::time_point last_log{};
  for (;;) {
    try {
      auto result = fn();
      if (first_failure) spdlog::info("{}: back after {:.1f} s", what, since(*first_failure));
      return result;
    } catch (const Unavailable& e) {
      if (!first_failure) first_failure = Clock::now();
      const double waited = since(*first_failure);
      if (stop.load() && waited > limits.when_stopping) throw;
      if (limits.patience > 0 && waited > limits.patience) {
        throw Unavailable(fmt::format("{}; no answer for {:.0f} s, giving up ({} = {:g})", e.what(), waited,
                                      limits.patience_key, limits.patience),
                          e.where());
      }
      if (since(last_log) > 10) {
        spdlog::warn("{} ({:.0f} s so far); retrying with backoff", e.what(), waited);
        last_log = Clock::now();
      }
      std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
      backoff = std::min(backoff * 2, 5.0);
    }
  }
}

/// A leased prompt made ready for generation, or the reason it cannot be.
struct Prepared {
  model::Prompt prompt;
  std::vector<int32_t> ids;
  model::ImageGeometry image;  ///< the first image's frames (a bbox answer refers to it); zeros without images
  std::string error;
};

}  // namespace

uint64_t sampling_seed(int64_t config_seed, const std::string& worker_id) {
  return static_cast<uint64_t>(config_seed) * 1000003u + std::hash<std::string>{}(worker_id);
}

WorkerSummary run_rollout_worker(const ExperimentConfig& c, const WorkerOptions& o, const std::atomic<bool>& stop) {
  SEER_CHECK(!o.worker_id.empty(), "rollout worker: empty worker id");
  std::unique_ptr<Metrics> metrics;
  if (o.metrics) metrics = std::make_unique<Metrics>(*o.metrics);
  model::LoadOptions lo;
  lo.device = "cpu";
  lo.lora = model::lora_spec(c.model.lora);  // zero adapters until the learner's first weights arrive
  lo.lora_seed = static_cast<uint64_t>(c.seed);
  if (c.model.device == "cuda" || (c.model.device == "auto" && torch::cuda::is_available())) {
    // Its own GPU by the launcher's local rank among the visible devices (core/gpu_choice.h).
    const GpuChoice gpu = choose_gpu(gpu_environment(), static_cast<int>(torch::cuda::device_count()));
    lo.device = "cuda:" + std::to_string(gpu.ordinal);
    spdlog::info("rollout worker {}: GPU {} (physical {}; {})", o.worker_id, lo.device, gpu.physical, gpu.reason);
  }
  auto policy = model::Vlm::load(c.model.path, lo);
  policy->set_train(false);
  model::resolve_auto_precision(c.compute.rollout_dtype, *policy, "rollout",
                                c.rollout.prompts_per_call * c.rollout.group_size);
  const auto inputs = model::ModelInputs::load(c.model.path, policy->config(), model::input_options(c));
  const auto params = policy->named_parameters();
  CoordinatorClientOptions co = o.coordinator;
  co.image_inputs = inputs.image_inputs();
  CoordinatorClient coordinator(co);
  reward::RewardClient rewards(o.reward);
  ThreadPool pool(static_cast<int>(std::max<int64_t>(1, c.rollout.preprocess_threads)));

  model::SamplingParams sp;
  sp.temperature = c.rollout.temperature;
  sp.top_k = c.rollout.top_k;
  sp.top_p = c.rollout.top_p;
  sp.max_new_tokens = c.rollout.max_new_tokens;
  sp.stop_ids = inputs.stop_ids();
  if (inputs.spec().image_token_id >= 0) sp.banned_ids = {inputs.spec().image_token_id};
  const uint64_t worker_seed = sampling_seed(c.seed, o.worker_id);

  WorkerSummary summary;
  uint64_t checksum = 0;
  int64_t calls = 0;
  int logged_threads = -1;
  const double patience = c.rollout.coordinator_patience_seconds;
  const char* const patience_key = "rollout.coordinator_patience_seconds";
  const RetryLimits lease_limits{0.0, patience, patience_key};
  const RetryLimits push_limits{o.max_wait_when_stopping_seconds, patience, patience_key};
  const RetryLimits reward_limits{o.max_wait_when_stopping_seconds, 0.0, ""};  // reward service: waited for
  spdlog::info("rollout worker {}: coordinator {}, reward service {}, G = {}, {} prompts per call", o.worker_id,
               o.coordinator.address, o.reward.address, c.rollout.group_size, c.rollout.prompts_per_call);

  while (!stop.load()) {
    const PromptLease lease = with_retry("coordinator", stop, lease_limits, [&] {
      return coordinator.get_prompts(o.worker_id, c.rollout.prompts_per_call, summary.weight_version);
    });
    if (lease.finished) {
      spdlog::info("the learner finished training; worker {} exits", o.worker_id);
      summary.finished = true;
      break;
    }
    if (lease.weight_version > summary.weight_version) {  // between generation calls only
      const auto t = Clock::now();
      auto v = with_retry("coordinator", stop, lease_limits,
                          [&] { return coordinator.fetch_weights(o.worker_id, summary.weight_version, 0.0); });
      if (v) {
        trainer::load_weights(*v, params);
        std::vector<std::string> names;
        for (const auto& tensor : v->tensors) names.push_back(tensor.name);
        checksum = trainer::parameters_checksum(params, names);
        SEER_CHECK(checksum == v->checksum, "weights v{}: the loaded parameters' checksum {:08x} differs from the "
                   "published {:08x}", v->version, checksum, v->checksum);
        summary.weight_version = v->version;
        ++summary.weight_syncs;
        spdlog::info("weights v{} loaded: {} tensors, {:.3f} MB in {:.2f} s, checksum {:08x}", v->version,
                     v->tensors.size(), static_cast<double>(v->bytes()) / 1e6, since(t), checksum);
        if (metrics) {
          metrics->sync_seconds.Set(since(t));
          metrics->sync_bytes.Increment(static_cast<double>(v->bytes()));
          metrics->version.Set(static_cast<double>(v->version));
        }
      }
    }
    if (lease.reload_weights || lease.prompts.empty()) {
      if (lease.prompts.empty() && !lease.reload_weights) {
        std::this_thread::sleep_for(std::chrono::duration<double>(std::max(0.05, lease.retry_after_seconds)));
      }
      continue;
    }

    // Prompts: chat template and image preprocessing on the pool, in lease order.
    std::vector<std::future<Prepared>> futures;
    for (const auto& p : lease.prompts) {
      futures.push_back(pool.submit([&inputs, p] {
        Prepared out;
        try {
          // Pixels first: a Qwen2-VL prompt holds as many image tokens as each image has merged patches.
          model::PromptImages images = inputs.images(p.images);
          if (!images.geometry.empty()) out.image = images.geometry.front();
          const auto tokens = inputs.prompt(p.question, images.tokens, p.row_id);
          out.prompt.images = std::move(images.pixel_values);
          out.ids = tokens.ids;
          out.prompt.ids = at::tensor(std::vector<int64_t>(tokens.ids.begin(), tokens.ids.end()), at::kLong);
        } catch (const std::exception& e) {
          out.error = e.what();
        }
        return out;
      }));
    }
    std::vector<Prepared> prepared;
    for (auto& f : futures) prepared.push_back(f.get());
    std::vector<model::Prompt> batch;
    std::vector<size_t> in_batch;  // lease index of each batch prompt
    for (size_t i = 0; i < prepared.size(); ++i) {
      if (prepared[i].error.empty()) {
        batch.push_back(prepared[i].prompt);
        in_batch.push_back(i);
      }
    }

    const int64_t G = c.rollout.group_size;
    std::vector<v1::Group> groups(lease.prompts.size());
    for (size_t i = 0; i < lease.prompts.size(); ++i) {
      groups[i].set_group_id(lease.prompts[i].prompt_id);
      groups[i].set_worker_id(o.worker_id);
      groups[i].set_weight_version(summary.weight_version);
      groups[i].set_weight_checksum(checksum);
      for (const std::string& image : lease.prompts[i].images) groups[i].add_images(image);
      if (!prepared[i].error.empty()) {
        groups[i].set_error(prepared[i].error);
        spdlog::warn("prompt {} ({}) cannot be used: {}", lease.prompts[i].prompt_id, lease.prompts[i].row_id,
                     prepared[i].error);
      }
      for (int32_t id : prepared[i].ids) groups[i].add_prompt_ids(id);
    }
    if (!batch.empty()) {
      const auto t_gen = Clock::now();
      sp.seed = worker_seed + static_cast<uint64_t>(calls++);
      // The worker's intra-op threads become generation lanes (rollout/generation_lanes.h).
      const model::Generation gen = generate_in_lanes(*policy, batch, G, sp, at::get_num_threads());
      int64_t tokens = 0;
      std::vector<reward::Sample> samples;
      for (size_t b = 0; b < batch.size(); ++b) {
        const LeasedPrompt& p = lease.prompts[in_batch[b]];
        for (int64_t k = 0; k < G; ++k) {
          const int64_t r = static_cast<int64_t>(b) * G + k;
          auto ids = completion_ids(gen, r);
          auto logprobs = completion_logprobs(gen, r);
          tokens += static_cast<int64_t>(ids.size());
          bool truncated = gen.finish[static_cast<size_t>(r)] == model::FinishReason::kLength;
          const size_t keep = cut_at_stop_strings(inputs.tokenizer(), ids, c.rollout.stop);
          if (keep < ids.size()) {  // a stop string ended it: train on what is scored, nothing after
            ids.resize(keep);
            logprobs.resize(keep);
            truncated = false;
          }
          reward::Sample s = reward_sample(inputs, ids, truncated, p.gold, p.answer_type, p.options, sp.max_new_tokens,
                                           prepared[in_batch[b]].image);
          s.stop = c.rollout.stop;
          samples.push_back(std::move(s));
          auto* t = groups[in_batch[b]].add_trajectories();
          t->set_sample_index(static_cast<uint32_t>(k));
          for (int32_t id : ids) t->add_response_ids(id);
          for (float lp : logprobs) t->add_logprobs(lp);
          t->set_truncated(truncated);
        }
      }
      const double gen_seconds = since(t_gen);
      summary.tokens += tokens;
      const int threads = at::get_num_threads();
      for (size_t b = 0; b < batch.size(); ++b) {  // each group's share of the call, by its tokens
        v1::Group& g = groups[in_batch[b]];
        int64_t own = 0;
        for (const auto& t : g.trajectories()) own += t.response_ids_size();
        g.set_rollout_threads(threads);
        g.set_generate_seconds(gen_seconds * static_cast<double>(own) / static_cast<double>(std::max<int64_t>(tokens, 1)));
      }
      if (metrics) {
        metrics->tokens.Increment(static_cast<double>(tokens));
        metrics->tokens_per_second.Set(static_cast<double>(tokens) / std::max(gen_seconds, 1e-9));
      }
      // Scores: the reward service is waited for; a sample is never given a reward it did not get.
      const auto scores = with_retry("reward service", stop, reward_limits, [&] { return rewards.score(samples); });
      for (size_t b = 0; b < batch.size(); ++b) {
        for (int64_t k = 0; k < G; ++k) {
          const reward::Score& s = scores[b * static_cast<size_t>(G) + static_cast<size_t>(k)];
          auto* t = groups[in_batch[b]].mutable_trajectories(static_cast<int>(k));
          t->set_scored(s.status != reward::Status::kUnscorable);
          t->set_reward(s.status != reward::Status::kUnscorable ? s.total : 0.0);
          t->set_status(std::string(reward::to_string(s.status)));
          t->set_answer(s.extracted_answer);
          for (const auto& [name, value] : s.components) {
            auto* comp = t->add_components();
            comp->set_name(name);
            comp->set_value(value);
          }
        }
      }
      spdlog::log(threads != logged_threads ? spdlog::level::info : spdlog::level::debug,
                  "generated {} groups ({} tokens, {:.0f} tok/s, {} threads) with weights v{}", batch.size(), tokens,
                  static_cast<double>(tokens) / std::max(gen_seconds, 1e-9), threads, summary.weight_version);
      logged_threads = threads;  // at info when the thread count changes, then at debug
    }
    const PushAck ack = with_retry("coordinator", stop, push_limits, [&] { return coordinator.push(groups); });
    summary.groups_pushed += ack.accepted + ack.duplicate;
    if (metrics) {
      metrics->groups.Add({{"result", "accepted"}}).Increment(static_cast<double>(ack.accepted));
      metrics->groups.Add({{"result", "duplicate"}}).Increment(static_cast<double>(ack.duplicate));
      metrics->groups.Add({{"result", "stale"}}).Increment(static_cast<double>(ack.stale));
      metrics->groups.Add({{"result", "unknown"}}).Increment(static_cast<double>(ack.unknown));
    }
    if (ack.stale + ack.unknown > 0) {
      spdlog::info("pushed {} groups: {} accepted, {} duplicate, {} stale, {} unknown", groups.size(), ack.accepted,
                   ack.duplicate, ack.stale, ack.unknown);
    }
  }
  if (stop.load() && !summary.finished) spdlog::info("worker {} stopped by a signal after its last push", o.worker_id);
  return summary;
}

}  // namespace seer::rollout
