// `seer reward`: the reward service; `seer reward score`: score one completion (or a JSONL file of them) from
// the shell.
#include <unistd.h>

#include <cstdio>
#include <fstream>
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
#include "core/json_get.h"
#include "core/tls_options.h"
#include "reward/client.h"
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
  std::string gold, type = "auto", prefill, frame, completion, jsonl, address;
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
  o.tls = read_tls(cfg.cluster);
  o.scoring = reward::scoring_options(cfg);
  o.metrics = std::make_shared<prometheus::Registry>();
  auto exposer = start_metrics(cfg.metrics, o.metrics, kMetricsOffsetReward);
  reward::RewardServer server(o);
  spdlog::info("reward service listening on {} ({} scoring threads, {:.3g} s budget per sample{}{})", server.address(),
               o.threads, o.scoring.budget_seconds, o.auth_token.empty() ? "" : ", bearer token required",
               o.tls.enabled() ? ", TLS" : "");
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

nlohmann::json score_json(const reward::Score& r) {
  nlohmann::json j;
  j["status"] = reward::to_string(r.status);
  j["type"] = reward::to_string(r.resolved_type);
  j["extracted_answer"] = r.extracted_answer;
  j["components"] = r.components;
  j["total"] = r.total;
  if (!r.detail.empty()) j["detail"] = r.detail;
  return j;
}

nlohmann::json score_json(const reward::Sample& s, const reward::ScoringOptions& o) {
  return score_json(reward::score_sample(s, o));
}

/// One row of a `--jsonl` file: {"completion", "gold", optional "answer_type", "prefill", "options", "stop",
/// "truncated"}. Throws seer::Error naming FILE:LINE and the field when a field is missing or mistyped.
reward::Sample sample_from_row(const nlohmann::json& row, const std::string& where) {
  if (!row.is_object()) SEER_FAIL("{}: a row must be a JSON object", where);
  if (!row.contains("completion") || !row.contains("gold")) SEER_FAIL("{}: a row needs 'completion' and 'gold'", where);
  reward::Sample s;
  s.completion = json_get_or<std::string>(row, "completion", "", where);
  s.gold = json_get_or<std::string>(row, "gold", "", where);
  s.prefill = json_get_or<std::string>(row, "prefill", "", where);
  s.truncated = json_get_or<bool>(row, "truncated", false, where);
  s.options = json_get_or<std::vector<std::string>>(row, "options", {}, where);
  s.stop = json_get_or<std::vector<std::string>>(row, "stop", {}, where);
  const auto type = json_get_or<std::string>(row, "answer_type", "auto", where);
  const auto parsed = reward::parse_answer_type(type);
  if (!parsed) SEER_FAIL("{}: 'answer_type' {} is not one of auto, numeric, math, choice, text, bbox", where, type);
  s.answer_type = *parsed;
  return s;
}

/// Scores every row of a JSONL file and prints one compact JSON line per row ({"line", "id" when the row has
/// one, then the fields of a single score}, or {"line", "error"}); a bad row does not stop the others.
/// Returns 0 when every row scored, 1 when some row was bad, 2 when the file cannot be read.
int score_file(const std::string& path, const reward::ScoringOptions& o) {
  std::ifstream in(path);
  if (!in) {
    spdlog::error("cannot read {}", path);
    return 2;
  }
  int bad = 0;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = fmt::format("{}:{}", path, n);
    nlohmann::json out;
    try {
      const auto row = nlohmann::json::parse(line);
      out = score_json(sample_from_row(row, where), o);
      if (row.contains("id")) out["id"] = row["id"];
    } catch (const nlohmann::json::exception& e) {
      out["error"] = fmt::format("{}: not JSON ({})", where, e.what());
      ++bad;
    } catch (const std::exception& e) {
      out["error"] = e.what();
      ++bad;
    }
    out["line"] = n;
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  if (bad > 0) spdlog::error("{}: {} row(s) could not be scored (see their \"error\")", path, bad);
  return bad > 0 ? 1 : 0;
}

int score_one(const RewardArgs& args, const Invocation& inv) {
  ExperimentConfig cfg;
  try {
    cfg = load_and_log(args.config, args.overrides, inv.log_level, "reward");
  } catch (const std::exception& e) {
    return report_config_error(e);
  }
  const reward::ScoringOptions options = reward::scoring_options(cfg);
  if (!args.jsonl.empty()) return score_file(args.jsonl, options);
  if (args.gold.empty() && args.completion.empty()) {
    spdlog::error("seer reward score: give a completion and --gold, or --jsonl FILE");
    return 2;
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
  nlohmann::json out;
  if (args.address.empty()) {
    out = score_json(s, options);
  } else {
    // Through a running service, as a rollout worker reaches it (token from reward.auth_token_*, TLS from
    // cluster.tls_*): for checking a deployment, not only the scorer.
    try {
      reward::ClientOptions co;
      co.address = args.address;
      co.auth_token = read_auth_token(cfg.reward);
      co.tls = read_tls(cfg.cluster);
      co.timeout_seconds = cfg.reward.request_timeout_seconds;
      co.max_attempts = 2;
      out = score_json(reward::RewardClient(co).score({s}).at(0));
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return 1;
    }
  }
  std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
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

  CLI::App* score = cmd->add_subcommand("score", "Score one completion (or a JSONL file) with the service's scorer, print JSON");
  score->add_option("completion", args->completion, "generated text (quote it)");
  score->add_option("--gold", args->gold, "gold answer");
  score->add_option("--jsonl", args->jsonl,
                    "score every row of this file ({\"completion\", \"gold\", optional \"answer_type\", \"prefill\", "
                    "\"options\", \"id\"}); one JSON line out per row")
      ->excludes("--gold");
  score->add_option("--type", args->type, "answer type")
      ->check(CLI::IsMember({"auto", "numeric", "math", "choice", "text", "bbox"}));
  score->add_option("--prefill", args->prefill, "assistant prefill (e.g. '<think>\\n')");
  score->add_flag("--truncated", args->truncated, "the completion hit max_new_tokens");
  score->add_option("--option", args->options, "a choice letter the question offers (repeatable)");
  score->add_option("--stop", args->stop, "stop string (repeatable)");
  score->add_option("--image-size", args->image_size, "bbox: original image W H")->expected(2);
  score->add_option("--input-size", args->input_size, "bbox: model input image W H")->expected(2);
  score->add_option("--address", args->address,
                    "send it to the `seer reward` at HOST:PORT (token and TLS from --config) instead of scoring here")
      ->excludes("--jsonl");
  score->add_option("--frame", args->frame, "bbox: frame of the prediction")
      ->check(CLI::IsMember({"absolute", "norm1000", "norm1"}));
  score->callback([args, &inv] { inv.exit_code = score_one(*args, inv); });
}

}  // namespace seer::app
