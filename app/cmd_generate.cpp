// `seer generate --model DIR [--image FILE] "question"`: try a checkpoint on one prompt (or the rows of a
// JSONL file with --data), built exactly as the rollout workers build prompts (chat template, image
// placeholders, assistant prefill). Streams the completion as it is generated; with --gold (or the rows'
// gold answers) prints the reward service's score: computed in-process by the same scorer, or by a
// running `seer reward` with --reward-address.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "app/commands.h"
#include "app/process_setup.h"
#include "core/check.h"
#include "core/tls_options.h"
#include "dataset/jsonl_reader.h"
#include "model/generate.h"
#include "model/inputs.h"
#include "model/precision_choice.h"
#include "model/vlm.h"
#include "reward/client.h"
#include "reward/scorer.h"
#include "reward/scoring_config.h"
#include "rollout/completion.h"

namespace seer::app {
namespace {

struct GenerateArgs {
  std::string config, model, data, question, gold, answer_type = "auto", reward_address;
  std::vector<std::string> overrides, images;
  double temperature = -1.0, top_p = 1.0;  // temperature < 0: greedy for one sample, rollout.temperature for more
  int64_t top_k = 0, samples = 1, max_new_tokens = -1, limit = 0, batch = 8;
  uint64_t seed = 1;
  bool no_stream = false;
};

/// One prompt to generate for: the question, its images and (optionally) a gold answer.
struct Request {
  std::string id, question, gold, answer_type = "auto";
  std::vector<std::string> images, options;
};

/// Prints the decoded text of one row as its tokens arrive. Byte-level tokens can end inside a UTF-8
/// character; text is printed only up to the last complete character.
class Streamer {
 public:
  explicit Streamer(const model::Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  void push(int32_t id) {
    ids_.push_back(id);
    const std::string text = tokenizer_.decode(ids_, /*skip_special_tokens=*/true);
    if (text.size() <= printed_ || text.compare(0, printed_, text, 0, printed_) != 0) return;
    if (text.size() >= 3 && text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0) return;  // incomplete character
    std::fwrite(text.data() + printed_, 1, text.size() - printed_, stdout);
    std::fflush(stdout);
    printed_ = text.size();
  }

 private:
  const model::Tokenizer& tokenizer_;
  std::vector<int32_t> ids_;
  size_t printed_ = 0;
};

std::string component_text(const reward::Score& s) {
  std::string out;
  for (const auto& [name, value] : s.components) out += fmt::format("  {} {:.3f}", name, value);
  return out;
}

int generate_command(const GenerateArgs& a, const Invocation& inv) {
  ExperimentConfig cfg;
  try {
    cfg = load_and_log(a.config, a.overrides, inv.log_level, "generate");
  } catch (const std::exception& e) {
    return report_config_error(e);
  }
  try {
    SEER_CHECK(a.data.empty() != a.question.empty(), "give either a question or --data FILE (not both)");
    SEER_CHECK(a.data.empty() || (a.images.empty() && a.gold.empty()),
               "--image and --gold go with a question; with --data each row has its own");
    apply_compute(cfg, "generate", HostProcesses{});
    const std::string model_dir = a.model.empty() ? cfg.model.path : a.model;
    SEER_CHECK(!model_dir.empty(), "no model: pass --model DIR or set model.path");
    std::vector<Request> requests;
    if (a.data.empty()) {
      requests.push_back({"prompt", a.question, a.gold, a.answer_type, a.images, {}});
    } else {
      const auto data = dataset::read_jsonl(a.data, dataset::read_options(cfg.data));
      for (const auto& row : data.rows) {
        if (row.is_conversation()) {
          spdlog::warn("{}: a conversation row; generate needs problem/solution rows (skipped)", row.id);
          continue;
        }
        requests.push_back({row.id, row.question, row.answer, row.answer_type, row.images, row.options});
        if (a.limit > 0 && static_cast<int64_t>(requests.size()) >= a.limit) break;
      }
    }
    auto model = model::Vlm::load(model_dir);
    model->set_train(false);
    model::resolve_auto_precision(cfg.compute.rollout_dtype, *model, "generate");
    const auto inputs = model::ModelInputs::load(model_dir, model->config(), model::input_options(cfg));
    const reward::ScoringOptions scoring = reward::scoring_options(cfg);
    std::unique_ptr<reward::RewardClient> client;
    if (!a.reward_address.empty()) {
      reward::ClientOptions co;
      co.address = a.reward_address;
      co.auth_token = read_auth_token(cfg.reward);
      co.tls = read_tls(cfg.cluster);
      client = std::make_unique<reward::RewardClient>(co);
    }
    model::SamplingParams sp;
    sp.temperature = a.temperature >= 0 ? a.temperature : a.samples > 1 ? cfg.rollout.temperature : 0.0;
    sp.top_k = a.top_k;
    sp.top_p = a.top_p;
    sp.max_new_tokens = a.max_new_tokens > 0 ? a.max_new_tokens : cfg.rollout.max_new_tokens;
    sp.stop_ids = inputs.stop_ids();
    if (inputs.spec().image_token_id >= 0) sp.banned_ids = {inputs.spec().image_token_id};
    const bool stream = !a.no_stream && requests.size() == 1 && a.samples == 1;
    const std::string prefill = inputs.spec().assistant_prefill;
    int64_t tokens = 0, failed = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t begin = 0; begin < requests.size(); begin += static_cast<size_t>(a.batch)) {
      const size_t end = std::min(requests.size(), begin + static_cast<size_t>(a.batch));
      std::vector<model::Prompt> prompts;
      std::vector<const Request*> used;
      std::vector<model::ImageGeometry> frames;
      for (size_t i = begin; i < end; ++i) {
        const Request& req = requests[i];
        try {
          model::PromptImages images = inputs.images(req.images);
          const auto p = inputs.prompt(req.question, images.tokens, req.id);
          model::Prompt prompt;
          prompt.ids = at::tensor(std::vector<int64_t>(p.ids.begin(), p.ids.end()), at::kLong);
          prompt.images = std::move(images.pixel_values);
          prompts.push_back(std::move(prompt));
          used.push_back(&req);
          frames.push_back(images.geometry.empty() ? model::ImageGeometry{} : images.geometry.front());
        } catch (const std::exception& e) {
          std::fprintf(stderr, "seer generate: %s\n", e.what());
          ++failed;
        }
      }
      if (prompts.empty()) continue;
      std::optional<Streamer> streamer;
      if (stream) {
        streamer.emplace(inputs.tokenizer());
        std::fputs(prefill.c_str(), stdout);
        sp.on_step = [&](const at::Tensor& next, const std::vector<bool>& alive) {
          if (alive[0]) streamer->push(static_cast<int32_t>(next[0].item<int64_t>()));
        };
      }
      sp.seed = a.seed + begin;
      const model::Generation gen = model::generate(*model, prompts, a.samples, sp);
      for (size_t p = 0; p < used.size(); ++p) {
        const Request& req = *used[p];
        for (int64_t k = 0; k < a.samples; ++k) {
          const int64_t r = static_cast<int64_t>(p) * a.samples + k;
          const std::vector<int32_t> ids = rollout::completion_ids(gen, r);
          const bool truncated = gen.finish[static_cast<size_t>(r)] == model::FinishReason::kLength;
          tokens += static_cast<int64_t>(ids.size());
          const reward::Sample s = rollout::reward_sample(inputs, ids, truncated, req.gold, req.answer_type, req.options,
                                                          sp.max_new_tokens, frames[p]);
          if (!stream) {
            if (requests.size() > 1 || a.samples > 1) {
              std::printf("== %s%s ==\n", req.id.c_str(),
                          a.samples > 1 ? fmt::format(" sample {}/{}", k + 1, a.samples).c_str() : "");
            }
            std::printf("%s%s", s.prefill.c_str(), s.completion.c_str());
          }
          std::printf("\n[%s, %zu tokens]", truncated ? "length" : "stop", ids.size());
          if (!req.gold.empty()) {
            const reward::Score score = client ? client->score({s}).front() : reward::score_sample(s, scoring);
            std::printf(" reward %.3f%s  status %s  answer \"%s\"  gold \"%s\"", score.total, component_text(score).c_str(),
                        std::string(reward::to_string(score.status)).c_str(), score.extracted_answer.c_str(),
                        req.gold.c_str());
          }
          std::printf("\n");
          std::fflush(stdout);
        }
      }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    spdlog::info("{} tokens in {:.2f} s ({:.1f} tokens/s){}", tokens, seconds, seconds > 0 ? tokens / seconds : 0.0,
                 failed > 0 ? fmt::format(", {} prompts failed", failed) : "");
    return failed > 0 ? kExitBadInput : 0;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitBadInput;
  }
}

}  // namespace

void add_generate_command(CLI::App& app, Invocation& inv) {
  auto a = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand("generate", "Try a model on one prompt (or the rows of a JSONL file): prints the "
                                                 "completion as it is generated, and its reward with --gold");
  cmd->add_option("question", a->question, "the question; \"<image>\" places the image (otherwise it comes first)");
  cmd->add_option("--model", a->model, "model folder (HF layout; default: model.path of the config)");
  cmd->add_option("--image", a->images, "image file for the question (repeatable, in prompt order)")
      ->expected(1)
      ->allow_extra_args(false)
      ->check(CLI::ExistingFile);
  cmd->add_option("--data", a->data, "generate for the problem/solution rows of this JSONL file instead")
      ->check(CLI::ExistingFile);
  cmd->add_option("--limit", a->limit, "with --data: only the first N rows");
  cmd->add_option("--gold", a->gold, "gold answer: prints the reward (accuracy, format) of each completion");
  cmd->add_option("--answer-type", a->answer_type, "answer type of --gold: auto | numeric | math | choice | text | bbox");
  cmd->add_option("--config", a->config, "experiment config for chat template, prefill, image and reward settings");
  cmd->add_option("--set", a->overrides, "override a config key: section.key=value (repeatable)");
  cmd->add_option("--temperature", a->temperature, "sampling temperature; 0 = greedy (default with one sample; with --samples > 1: "
                                                "rollout.temperature)")
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--top-p", a->top_p, "nucleus sampling; 1 = off")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--top-k", a->top_k, "top-k sampling; 0 = off")->check(CLI::NonNegativeNumber);
  cmd->add_option("--samples", a->samples, "completions per prompt")->check(CLI::Range(1, 1024));
  cmd->add_option("--seed", a->seed, "sampling seed");
  cmd->add_option("--max-new-tokens", a->max_new_tokens, "default: rollout.max_new_tokens");
  cmd->add_option("--batch", a->batch, "with --data: prompts per generation call")->check(CLI::Range(1, 4096));
  cmd->add_option("--reward-address", a->reward_address,
                  "score with a running `seer reward` at HOST:PORT (token from reward.auth_token_file/env) instead of "
                  "the same scorer in this process");
  cmd->add_flag("--no-stream", a->no_stream, "print the completion when it is complete");
  cmd->callback([a, &inv] { inv.exit_code = generate_command(*a, inv); });
}

}  // namespace seer::app
