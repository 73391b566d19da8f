// `seer reward`: the reward service; `seer reward score`: score one completion from the shell.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "app/commands.h"
#include "app/process_setup.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "core/config_load.h"
#include "reward/scoring_config.h"
#include "reward/scorer.h"
#include "reward/service.h"

namespace seer::app {
namespace {

struct RewardArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string port_file;
  // score
  std::string gold, type = "auto", prefill, frame, completion;
  std::vector<std::string> options, stop;
  bool truncated = false;
  std::vector<double> image_size, input_size;
};

int serve(const RewardArgs& args, const Invocation& inv) {
  ExperimentConfig cfg;
  try {
    cfg = load_and_log(args.config, args.overrides, inv.log_level, "reward");
  } catch (const std::exception& e) {
    return report_config_error(e);
  }
  block_stop_signals();  // before any thread starts, so only wait_for_stop_signal sees SIGINT/SIGTERM
  reward::ServerOptions o;
  o.address = cfg.reward.address;
  o.threads = static_cast<int>(cfg.reward.threads);
  o.max_request_bytes = cfg.reward.max_request_bytes;
  o.max_samples_per_request = cfg.reward.max_samples_per_request;
  o.auth_token = read_auth_token(cfg.reward);
  o.scoring = reward::scoring_options(cfg);
  o.metrics = std::make_shared<prometheus::Registry>();
  auto exposer = start_metrics(cfg.metrics, o.metrics, kMetricsOffsetReward);
  reward::RewardServer server(o);
  spdlog::info("reward service listening on {} ({} scoring threads, {:.3g} s budget per sample{})", server.address(),
               o.threads, o.scoring.budget_seconds, o.auth_token.empty() ? "" : ", bearer token required");
  if (!args.port_file.empty()) {
    // Other hosts cannot dial a wildcard address: write this host's name instead.
    std::string host = server.address().substr(0, server.address().rfind(':'));
    if (host == "0.0.0.0" || host == "[::]" || host == "::") {
      char name[256] = {0};
      host = gethostname(name, sizeof(name) - 1) == 0 ? name : "127.0.0.1";
    }
    write_file_atomic(args.port_file, host + ":" + std::to_string(server.port()) + "\n");
  }
  const int sig = wait_for_stop_signal();
  spdlog::info("signal {}: finishing in-flight requests, then stopping", sig);
  server.shutdown(10.0);
  spdlog::info("stopped");
  return 0;
}

int score_one(const RewardArgs& args, const Invocation& inv) {
  ExperimentConfig cfg;
  try {
    cfg = load_and_log(args.config, args.overrides, inv.log_level, "reward");
  } catch (const std::exception& e) {
    return report_config_error(e);
  }
  reward::Sample s;
  s.completion = args.completion;
  s.gold = args.gold;
  s.prefill = args.prefill;
  s.truncated = args.truncated;
  s.options = args.options;
  s.stop = args.stop;
  s.answer_type = reward::parse_answer_type(args.type).value();
  if (args.image_size.size() == 2) s.original_image = {args.image_size[0], args.image_size[1]};
  if (args.input_size.size() == 2) s.model_input_image = {args.input_size[0], args.input_size[1]};
  if (!args.frame.empty()) s.box_frame = reward::parse_box_frame(args.frame);
  const reward::Score r = reward::score_sample(s, reward::scoring_options(cfg));
  nlohmann::json j;
  j["status"] = reward::to_string(r.status);
  j["type"] = reward::to_string(r.resolved_type);
  j["extracted_answer"] = r.extracted_answer;
  j["components"] = r.components;
  j["total"] = r.total;
  if (!r.detail.empty()) j["detail"] = r.detail;
  std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return 0;
}

}  // namespace

void add_reward_command(CLI::App& app, Invocation& inv) {
  auto args = std::make_shared<RewardArgs>();
  CLI::App* cmd = app.add_subcommand("reward", "Reward service (gRPC): accuracy and format scores");
  cmd->add_option("--config", args->config, "experiment config (YAML); omitted = the defaults");
  cmd->add_option("--set", args->overrides, "override a config key, e.g. --set reward.threads=8");
  cmd->add_option("--port-file", args->port_file, "write the bound host:port here once listening");
  cmd->callback([args, &inv, cmd] {
    if (cmd->get_subcommands().empty()) inv.exit_code = serve(*args, inv);
  });

  CLI::App* score = cmd->add_subcommand("score", "Score one completion with the service's scorer and print JSON");
  score->add_option("completion", args->completion, "generated text (quote it)")->required();
  score->add_option("--gold", args->gold, "gold answer")->required();
  score->add_option("--type", args->type, "answer type")
      ->check(CLI::IsMember({"auto", "numeric", "math", "choice", "text", "bbox"}));
  score->add_option("--prefill", args->prefill, "assistant prefill (e.g. '<think>\\n')");
  score->add_flag("--truncated", args->truncated, "the completion hit max_new_tokens");
  score->add_option("--option", args->options, "a choice letter the question offers (repeatable)");
  score->add_option("--stop", args->stop, "stop string (repeatable)");
  score->add_option("--image-size", args->image_size, "bbox: original image W H")->expected(2);
  score->add_option("--input-size", args->input_size, "bbox: model input image W H")->expected(2);
  score->add_option("--frame", args->frame, "bbox: frame of the prediction")
      ->check(CLI::IsMember({"absolute", "norm1000", "norm1"}));
  score->callback([args, &inv] { inv.exit_code = score_one(*args, inv); });
}

}  // namespace seer::app
