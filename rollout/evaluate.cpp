#include "rollout/evaluate.h"

#include <chrono>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "core/check.h"
#include "model/generate.h"
#include "model/inputs.h"
#include "model/vlm.h"
#include "reward/scorer.h"
#include "rollout/completion.h"

namespace seer::rollout {
namespace {

struct Acc {
  int64_t rows = 0, skipped = 0, samples = 0, passed = 0;
  double accuracy = 0, format = 0, reward = 0, tokens = 0;
  EvalTotals totals() const {
    EvalTotals t;
    t.rows = rows;
    t.skipped = skipped;
    const double n = std::max<int64_t>(1, samples);
    t.accuracy = accuracy / n;
    t.format = format / n;
    t.reward = reward / n;
    t.completion_tokens = tokens / n;
    t.pass_at_k = rows > 0 ? static_cast<double>(passed) / static_cast<double>(rows) : 0.0;
    return t;
  }
};

double component(const reward::Score& s, const char* name) {
  auto it = s.components.find(name);
  return it == s.components.end() ? 0.0 : it->second;
}

}  // namespace

EvalReport evaluate(model::Vlm& model, const model::ModelInputs& inputs, const std::vector<dataset::Row>& rows,
                    const EvalOptions& o, const std::function<void(int64_t, int64_t)>& progress) {
  SEER_CHECK(o.batch_size >= 1 && o.samples >= 1, "evaluate: batch_size and samples must be >= 1");
  const auto t0 = std::chrono::steady_clock::now();
  EvalReport report;
  Acc all;
  std::map<std::string, Acc> by_type;
  model::SamplingParams sp;
  sp.temperature = o.samples == 1 ? 0.0 : o.temperature;
  sp.max_new_tokens = o.max_new_tokens;
  sp.stop_ids = inputs.stop_ids();
  if (inputs.spec().image_token_id >= 0) sp.banned_ids = {inputs.spec().image_token_id};
  for (size_t begin = 0; begin < rows.size(); begin += static_cast<size_t>(o.batch_size)) {
    const size_t end = std::min(rows.size(), begin + static_cast<size_t>(o.batch_size));
    std::vector<model::Prompt> prompts;
    std::vector<const dataset::Row*> used;
    std::vector<model::ImageGeometry> frames;
    for (size_t i = begin; i < end; ++i) {
      const dataset::Row& row = rows[i];
      try {
        SEER_CHECK(!row.is_conversation(), "{}: a conversation row; evaluation needs problem/solution rows", row.id);
        model::Prompt prompt;
        model::PromptImages images = inputs.images(row.images);
        const auto p = inputs.prompt(row.question, images.tokens, row.id);
        prompt.images = std::move(images.pixel_values);
        // A bbox answer refers to the first image.
        const model::ImageGeometry geometry = images.geometry.empty() ? model::ImageGeometry{} : images.geometry.front();
        prompt.ids = at::tensor(std::vector<int64_t>(p.ids.begin(), p.ids.end()), at::kLong);
        prompts.push_back(std::move(prompt));
        used.push_back(&row);
        frames.push_back(geometry);
      } catch (const std::exception& e) {
        spdlog::warn("eval: skipping {}", e.what());
        ++all.skipped;
      }
    }
    if (!prompts.empty()) {
      sp.seed = o.seed + begin;
      const model::Generation gen = model::generate(model, prompts, o.samples, sp);
      for (size_t p = 0; p < used.size(); ++p) {
        const dataset::Row& row = *used[p];
        bool passed = false;
        std::string first_type;
        for (int64_t k = 0; k < o.samples; ++k) {
          const int64_t r = static_cast<int64_t>(p) * o.samples + k;
          const std::vector<int32_t> ids = completion_ids(gen, r);
          const int64_t len = static_cast<int64_t>(ids.size());
          const reward::Sample s =
              reward_sample(inputs, ids, gen.finish[static_cast<size_t>(r)] == model::FinishReason::kLength, row.answer,
                            row.answer_type, row.options, o.max_new_tokens, frames[p]);
          const reward::Score score = reward::score_sample(s, o.scoring);
          const std::string type(reward::to_string(score.resolved_type));
          for (Acc* acc : {&all, &by_type[type]}) {
            acc->samples += 1;
            acc->accuracy += component(score, "accuracy");
            acc->format += component(score, "format");
            acc->reward += score.status == reward::Status::kUnscorable ? 0.0 : score.total;
            acc->tokens += static_cast<double>(len);
          }
          passed |= component(score, "accuracy") >= 1.0;
          if (k == 0) {
            first_type = type;
            report.samples.push_back({row.id, row.answer, s.completion, score.extracted_answer, component(score, "accuracy"),
                                      component(score, "format"), score.total, std::string(reward::to_string(score.status))});
          }
        }
        for (Acc* acc : {&all, &by_type[first_type]}) {
          acc->rows += 1;
          acc->passed += passed;
        }
      }
    }
    if (progress) progress(static_cast<int64_t>(end), static_cast<int64_t>(rows.size()));
  }
  report.overall = all.totals();
  for (const auto& [type, acc] : by_type) report.by_type[type] = acc.totals();
  std::vector<AnswerRecord> records;
  records.reserve(report.samples.size());
  for (const EvalSample& s : report.samples) records.push_back({s.gold, s.extracted, s.accuracy >= 1.0});
  report.answers = answer_stats(records);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace seer::rollout
