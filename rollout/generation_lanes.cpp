#include "rollout/generation_lanes.h"

#include <algorithm>
#include <exception>
#include <thread>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

namespace seer::rollout {
namespace {

/// One lane's work: prompts [first, first + count), `samples` rows each, written to global rows
/// prompt * G + sample_offset + k.
struct Lane {
  int64_t first = 0, count = 0, samples = 0, sample_offset = 0;
  model::Generation out;
  std::exception_ptr error;
};

}  // namespace

model::Generation generate_in_lanes(model::Vlm& model, const std::vector<model::Prompt>& prompts, int64_t group_size,
                                    const model::SamplingParams& params, int lanes) {
  const auto P = static_cast<int64_t>(prompts.size());
  const int64_t R = P * group_size;
  lanes = static_cast<int>(std::min<int64_t>(lanes, R));
  if (lanes <= 1 || params.keep_step_logits) return model::generate(model, prompts, group_size, params);

  std::vector<Lane> work(static_cast<size_t>(lanes));
  for (int l = 0; l < lanes; ++l) {
    Lane& w = work[static_cast<size_t>(l)];
    if (P >= lanes) {  // contiguous shares of the prompts, all G samples each
      w.first = P * l / lanes;
      w.count = P * (l + 1) / lanes - w.first;
      w.samples = group_size;
    } else {  // every prompt, a share of its samples
      w.first = 0;
      w.count = P;
      w.sample_offset = group_size * l / lanes;
      w.samples = group_size * (l + 1) / lanes - w.sample_offset;
    }
  }
  const int threads = at::get_num_threads();
  at::set_num_threads(1);  // every lane (new threads read this on their first parallel op) runs on one thread
  auto run = [&](Lane& w, uint64_t lane) {
    try {
      if (w.count == 0 || w.samples == 0) return;
      model::SamplingParams p = params;
      p.seed = params.seed + lane;
      const std::vector<model::Prompt> mine(prompts.begin() + w.first, prompts.begin() + w.first + w.count);
      w.out = model::generate(model, mine, w.samples, p);
    } catch (...) {
      w.error = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int l = 1; l < lanes; ++l) pool.emplace_back(run, std::ref(work[static_cast<size_t>(l)]), static_cast<uint64_t>(l));
  run(work[0], 0);
  for (auto& t : pool) t.join();
  at::set_num_threads(threads);
  for (const Lane& w : work) {
    if (w.error) std::rethrow_exception(w.error);
  }

  int64_t steps = 0;
  for (const Lane& w : work) {
    if (w.out.tokens.defined()) steps = std::max(steps, w.out.tokens.size(1));
  }
  model::Generation out;
  out.tokens = at::zeros({R, steps}, at::kLong);
  out.logprobs = at::zeros({R, steps}, at::kFloat);
  out.lengths.assign(static_cast<size_t>(R), 0);
  out.finish.assign(static_cast<size_t>(R), model::FinishReason::kLength);
  for (const Lane& w : work) {
    if (!w.out.tokens.defined()) continue;
    const int64_t n = w.out.tokens.size(1);
    for (int64_t p = 0; p < w.count; ++p) {
      for (int64_t k = 0; k < w.samples; ++k) {
        const int64_t src = p * w.samples + k, dst = (w.first + p) * group_size + w.sample_offset + k;
        out.tokens[dst].narrow(0, 0, n).copy_(w.out.tokens[src]);
        out.logprobs[dst].narrow(0, 0, n).copy_(w.out.logprobs[src]);
        out.lengths[static_cast<size_t>(dst)] = w.out.lengths[static_cast<size_t>(src)];
        out.finish[static_cast<size_t>(dst)] = w.out.finish[static_cast<size_t>(src)];
      }
    }
  }
  return out;
}

}  // namespace seer::rollout
