// Config loading: defaults, every kind of error with its position, overrides, printing round trip.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "core/atomic_file.h"
#include "core/config_load.h"

namespace seer {
namespace {

/// The issues load_config_text reports for `yaml` (fails the test if it loads without error).
std::vector<ConfigIssue> issues_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    load_config_text(yaml, "x.yaml", overrides);
  } catch (const ConfigError& e) {
    return e.issues();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << yaml;
  return {};
}

TEST(Config, DefaultsAreDocumentedValues) {
  const ExperimentConfig c = default_config();
  EXPECT_EQ(c.rollout.group_size, 8);
  EXPECT_DOUBLE_EQ(c.trainer.lr, 1e-6);
  EXPECT_EQ(c.algorithm.loss_aggregation, "token-mean");
  EXPECT_DOUBLE_EQ(c.reward.weights.at("accuracy"), 0.9);
  EXPECT_DOUBLE_EQ(c.reward.weights.at("format"), 0.1);
  EXPECT_EQ(c.resolved_run_dir(), "runs/seer");
}

TEST(Config, FileValuesReplaceDefaults) {
  const ExperimentConfig c = load_config_text(
      "name: digits\n"
      "trainer:\n  lr: 2.5e-5\n  steps: 10\n"
      "rollout:\n  group_size: 4\n  stop: ['</answer>', '<|im_end|>']\n"
      "reward:\n  weights: {accuracy: 1.0}\n",
      "x.yaml");
  EXPECT_EQ(c.name, "digits");
  EXPECT_DOUBLE_EQ(c.trainer.lr, 2.5e-5);
  EXPECT_EQ(c.trainer.steps, 10);
  EXPECT_EQ(c.rollout.group_size, 4);
  ASSERT_EQ(c.rollout.stop.size(), 2u);
  EXPECT_EQ(c.rollout.stop[1], "<|im_end|>");
  EXPECT_DOUBLE_EQ(c.reward.weights.at("accuracy"), 1.0);
  EXPECT_EQ(c.reward.weights.count("format"), 0u);       // the mapping replaces the default weights
  EXPECT_EQ(c.trainer.prompts_per_step, 8);                // untouched keys keep their default
}

TEST(Config, EmptyFileIsAllDefaults) {
  EXPECT_EQ(load_config_text("", "x.yaml").rollout.group_size, 8);
  EXPECT_EQ(load_config_text("trainer:\n", "x.yaml").trainer.steps, 100);
}

TEST(Config, UnknownKeySuggestsSiblingWithPosition) {
  const auto issues = issues_of("name: a\ntrainer:\n  lr: 1.0e-6\n  lr_shedule: cosine\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].to_string(), "x.yaml:4:3: unknown key 'trainer.lr_shedule' (did you mean 'lr_schedule'?)");
}

TEST(Config, UnknownKeyInWrongSectionSuggestsRightSection) {
  const auto issues = issues_of("trainer:\n  group_size: 4\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].to_string(),
            "x.yaml:2:3: unknown key 'trainer.group_size' (did you mean 'rollout.group_size'?)");
}

TEST(Config, UnknownSectionAndFarKeyHaveNoFalseSuggestion) {
  const auto issues = issues_of("trainr:\n  lr: 1\nmodel:\n  zzzzzzzz: 1\n");
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].to_string(), "x.yaml:1:1: unknown key 'trainr' (did you mean 'trainer'?)");
  EXPECT_EQ(issues[1].to_string(), "x.yaml:4:3: unknown key 'model.zzzzzzzz'");
}

TEST(Config, WrongTypeNamesExpectedType) {
  const auto issues = issues_of("trainer:\n  steps: ten\n  lr: [1, 2]\nmetrics:\n  jsonl: maybe\n");
  ASSERT_EQ(issues.size(), 3u);
  EXPECT_EQ(issues[0].to_string(), "x.yaml:2:10: trainer.steps: expected an integer >= 1, got 'ten'");
  EXPECT_EQ(issues[1].to_string(), "x.yaml:3:7: trainer.lr: expected a number > 0, got a list");
  EXPECT_EQ(issues[2].to_string(), "x.yaml:5:10: metrics.jsonl: expected a boolean (true or false), got 'maybe'");
}

TEST(Config, IntegerAcceptsWholeNumbersOnly) {
  EXPECT_EQ(load_config_text("trainer:\n  steps: 1e3\n", "x.yaml").trainer.steps, 1000);
  const auto issues = issues_of("trainer:\n  steps: 2.5\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_NE(issues[0].message.find("expected an integer"), std::string::npos);
}

TEST(Config, OutOfRangeNamesRange) {
  const auto issues = issues_of("trainer:\n  lr: -1\nrollout:\n  top_p: 0\nalgorithm:\n  eps_low: 1\n");
  ASSERT_EQ(issues.size(), 3u);
  EXPECT_EQ(issues[0].to_string(), "x.yaml:2:7: trainer.lr: -1 is out of range, expected a number > 0");
  EXPECT_EQ(issues[1].to_string(), "x.yaml:4:10: rollout.top_p: 0 is out of range, expected a number in (0, 1]");
  EXPECT_EQ(issues[2].to_string(),
            "x.yaml:6:12: algorithm.eps_low: 1 is out of range, expected a number in [0, 1)");
}

TEST(Config, NanIsOutOfRange) {
  const auto issues = issues_of("trainer:\n  lr: .nan\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_NE(issues[0].message.find("out of range"), std::string::npos);
}

TEST(Config, ChoiceSuggestsClosest) {
  const auto issues = issues_of("algorithm:\n  loss_aggregation: token_mean\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].to_string(),
            "x.yaml:2:21: algorithm.loss_aggregation: 'token_mean' is not one of: token-mean, seq-mean-token-mean, "
            "seq-mean-token-sum-norm (did you mean 'token-mean'?)");
}

TEST(Config, RewardWeightsRejectUnknownComponent) {
  const auto issues = issues_of("reward:\n  weights: {acuracy: 1}\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_NE(issues[0].message.find("unknown component 'acuracy' (did you mean 'accuracy'?)"), std::string::npos);
}

TEST(Config, MissingValueIsReported) {
  const auto issues = issues_of("trainer:\n  lr:\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].to_string(), "x.yaml:2:3: trainer.lr: missing value, expected a number > 0");
}

TEST(Config, SectionMustBeMapping) {
  const auto issues = issues_of("trainer: 5\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].to_string(), "x.yaml:1:10: section 'trainer' must be a mapping of keys, got '5'");
}

TEST(Config, DuplicateKeyIsReported) {
  const auto issues = issues_of("trainer:\n  lr: 1e-5\n  lr: 2e-5\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].to_string(), "x.yaml:3:3: duplicate key 'trainer.lr' (first set at line 2)");
}

TEST(Config, CrossFieldGroupSizeAndDivisibility) {
  const auto issues = issues_of(
      "rollout:\n  group_size: 1\n"
      "trainer:\n  prompts_per_step: 3\n"
      "cluster:\n  learner_ranks: 2\n");
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].where, "x.yaml:2:3");
  EXPECT_NE(issues[0].message.find("needs a group of at least 2"), std::string::npos);
  EXPECT_EQ(issues[1].where, "x.yaml:6:3");  // the rank count is the first key of the rule the file sets
  EXPECT_NE(issues[1].message.find("3 x 1 = 3 sequences does not divide evenly among cluster.learner_ranks = 2"),
            std::string::npos);
}

TEST(Config, InputThatStallsTheYamlParserIsAnErrorNotAHang) {
  // Found by scripts/fuzz.sh config: yaml-cpp 0.7's LoadAll never returns on these (timeouts, 2 GB of memory).
  for (const std::string& text : {std::string(","), std::string(",\xd2", 2), std::string(",\0\0#\x01\x01#", 7)}) {
    const auto issues = issues_of(text);
    ASSERT_FALSE(issues.empty());
    EXPECT_EQ(issues[0].where, "x.yaml:1:1") << issues[0].message;
  }
  // A real second document is still named as such.
  const auto two = issues_of("name: a\n---\nname: b\n");
  ASSERT_EQ(two.size(), 1u);
  EXPECT_NE(two[0].message.find("has a second one"), std::string::npos) << two[0].message;
}

TEST(Config, OneWorkerCallMustFitTheRewardSampleLimit) {
  const auto issues = issues_of(
      "rollout:\n  group_size: 8\n  prompts_per_call: 4\n"
      "reward:\n  max_samples_per_request: 16\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_NE(issues[0].message.find("4 x 8 = 32 samples per request, over reward.max_samples_per_request 16"),
            std::string::npos) << issues[0].message;
  EXPECT_NO_THROW(load_config_text("rollout:\n  group_size: 8\n  prompts_per_call: 2\nreward:\n  max_samples_per_request: 16\n", "y.yaml"));
}

TEST(Config, CrossFieldRuleOnDefaultsPointsAtFile) {
  // group_size keeps its default (8); prompts_per_step comes from the file; mini_batches from the file.
  const auto issues = issues_of("trainer:\n  prompts_per_step: 6\nalgorithm:\n  mini_batches: 4\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].to_string(),
            "x.yaml:4:3: algorithm.mini_batches = 4 does not divide trainer.prompts_per_step = 6: every mini-batch "
            "must hold whole groups");
}

TEST(Config, CrossFieldWarmupAndAddress) {
  const auto issues = issues_of("trainer:\n  steps: 5\n  warmup_steps: 10\nreward:\n  address: localhost\n");
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].where, "x.yaml:3:3");
  EXPECT_EQ(issues[1].where, "x.yaml:5:3");
  EXPECT_NE(issues[1].message.find("is not HOST:PORT"), std::string::npos);
}

TEST(Config, SeveralErrorsReportedTogetherInFileOrder) {
  const auto issues = issues_of(
      "trainer:\n  lr_shedule: cosine\n  lr: abc\n"
      "rollout:\n  temperature: -0.5\n"
      "bogus: 1\n");
  ASSERT_EQ(issues.size(), 4u);
  EXPECT_EQ(issues[0].where, "x.yaml:2:3");
  EXPECT_EQ(issues[1].where, "x.yaml:3:7");
  EXPECT_EQ(issues[2].where, "x.yaml:5:16");
  EXPECT_EQ(issues[3].where, "x.yaml:6:1");
}

TEST(Config, MalformedYamlGivesParsePosition) {
  const auto issues = issues_of("trainer:\n  lr: [1, 2\n  steps: 3\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].where.rfind("x.yaml:", 0), 0u);
  EXPECT_NE(issues[0].where, "x.yaml");  // has a line and column
  EXPECT_NE(issues[0].message.find("malformed YAML"), std::string::npos);

  const auto tabs = issues_of("trainer:\n\tlr: 1\n");
  ASSERT_EQ(tabs.size(), 1u);
  EXPECT_EQ(tabs[0].where.substr(0, 9), "x.yaml:2:");
}

TEST(Config, TopLevelMustBeMapping) {
  const auto issues = issues_of("- a\n- b\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].to_string(), "x.yaml:1:1: the config must be a mapping of sections, got a list");
}

TEST(Config, MissingFileNamesFile) {
  try {
    load_config("/nonexistent/seer.yaml");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.issues().size(), 1u);
    EXPECT_EQ(e.issues()[0].to_string(), "/nonexistent/seer.yaml: cannot open config file: No such file or directory");
  }
}

TEST(Config, OverridesAreTypedLikeTheFile) {
  const ExperimentConfig c = load_config_text("trainer:\n  lr: 1e-5\n", "x.yaml",
                                              {"trainer.lr=2e-6", "rollout.stop=['</answer>']", "model.path=",
                                               "name=exp1", "reward.weights={format: 0.5}"});
  EXPECT_DOUBLE_EQ(c.trainer.lr, 2e-6);
  ASSERT_EQ(c.rollout.stop.size(), 1u);
  EXPECT_EQ(c.rollout.stop[0], "</answer>");
  EXPECT_EQ(c.model.path, "");
  EXPECT_EQ(c.name, "exp1");
  EXPECT_DOUBLE_EQ(c.reward.weights.at("format"), 0.5);
}

TEST(Config, BadOverridesAreReportedTogether) {
  const auto issues = issues_of("", {"trainer.lr=fast", "trainer.lr_shedule=cosine", "trainer", "trainr.lr=1",
                                     "trainer=1", "rollout.group_size=0"});
  ASSERT_EQ(issues.size(), 6u);
  EXPECT_EQ(issues[0].to_string(), "--set trainer.lr=fast: trainer.lr: expected a number > 0, got 'fast'");
  EXPECT_EQ(issues[1].to_string(),
            "--set trainer.lr_shedule=cosine: unknown key 'trainer.lr_shedule' (did you mean 'lr_schedule'?)");
  EXPECT_EQ(issues[2].to_string(), "--set trainer: an override must look like KEY=VALUE (e.g. --set trainer.lr=1e-6)");
  EXPECT_EQ(issues[3].to_string(), "--set trainr.lr=1: unknown section 'trainr' (did you mean 'trainer'?)");
  EXPECT_EQ(issues[4].where, "--set trainer=1");
  EXPECT_NE(issues[4].message.find("is a section"), std::string::npos);
  // Overrides come after file problems, in the order given.
  EXPECT_EQ(issues[5].to_string(), "--set rollout.group_size=0: rollout.group_size: 0 is out of range, expected an "
                                   "integer >= 1");
}

TEST(Config, FieldCrossFieldAndOverrideProblemsAllReportedTogether) {
  const auto issues = issues_of("trainer:\n  lr: abc\nrollout:\n  group_size: 1\n", {"trainer.steps=x"});
  ASSERT_EQ(issues.size(), 3u);
  EXPECT_EQ(issues[0].where, "x.yaml:2:7");
  EXPECT_EQ(issues[1].where, "x.yaml:4:3");
  EXPECT_NE(issues[1].message.find("at least 2"), std::string::npos);
  EXPECT_EQ(issues[2].where, "--set trainer.steps=x");
}

TEST(Config, RuleOnARejectedKeyIsSkipped) {
  // group_size is rejected; the divisibility rule involving it would talk about a default the user did not write.
  const auto issues = issues_of("rollout:\n  group_size: many\ncluster:\n  learner_ranks: 3\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].where, "x.yaml:2:15");
}

TEST(Config, CrossFieldPositionIsTheKeyTheFileSets) {
  const auto issues = issues_of("cluster:\n  learner_ranks: 3\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].where, "x.yaml:2:3");
}

TEST(Config, NonScalarKeyIsAnIssueNotACrash) {
  const auto issues = issues_of("? [a, b]\n: 1\ntrainer:\n  ? {x: 1}\n  : 2\n");
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_NE(issues[0].message.find("keys must be plain names, got a list"), std::string::npos);
  EXPECT_NE(issues[1].message.find("got a mapping"), std::string::npos);
}

TEST(Config, SecondDocumentIsRejected) {
  const auto issues = issues_of("trainer:\n  lr: 1e-5\n---\ntrainer:\n  lr: 2e-5\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_NE(issues[0].message.find("second one"), std::string::npos);
}

TEST(Config, ParseErrorsCarryHints) {
  const auto tabs = issues_of("trainer:\n\tlr: 1\n");
  ASSERT_EQ(tabs.size(), 1u);
  EXPECT_NE(tabs[0].message.find("tab"), std::string::npos) << tabs[0].message;
  const auto unclosed = issues_of("trainer:\n  steps: 3\n  lr: [1, 2\nrollout:\n  top_k: 1\n");
  ASSERT_EQ(unclosed.size(), 1u);
  EXPECT_NE(unclosed[0].message.find("the '[' opened at 3:7 is never closed"), std::string::npos)
      << unclosed[0].message;
  const auto binary = issues_of(std::string("a: \"\\\x01\"\n"));
  ASSERT_EQ(binary.size(), 1u);
  EXPECT_EQ(binary[0].message.find('\x01'), std::string::npos) << "control bytes are escaped";
}

TEST(Config, FolderIsNotAConfig) {
  try {
    load_config(std::filesystem::temp_directory_path().string());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(e.issues()[0].message.find("is a folder"), std::string::npos);
  }
}

TEST(Config, StringOverrideKeepsColons) {
  EXPECT_EQ(default_config({"model.system_prompt=Answer: think first"}).model.system_prompt, "Answer: think first");
}

TEST(Config, CrossFieldIssueFromOverrideNamesTheOverride) {
  const auto issues = issues_of("", {"rollout.group_size=1"});
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].where, "--set rollout.group_size=1");
}

TEST(Config, YamlRoundTripGivesEqualConfig) {
  ExperimentConfig c = load_config_text(
      "name: 'odd: name'\ntrainer:\n  lr: 3.3e-7\n  max_grad_norm: 0.1\nrollout:\n  stop: ['a\"b', '</answer>']\n"
      "model:\n  assistant_prefill: \"<think>\\n\"\n",
      "x.yaml");
  const std::string yaml = config_to_yaml(c);
  const ExperimentConfig back = load_config_text(yaml, "printed.yaml");
  EXPECT_EQ(config_to_yaml(back), yaml);
  EXPECT_EQ(back.name, "odd: name");
  EXPECT_DOUBLE_EQ(back.trainer.lr, 3.3e-7);
  EXPECT_DOUBLE_EQ(back.trainer.max_grad_norm, 0.1);
  EXPECT_EQ(back.rollout.stop, c.rollout.stop);
  EXPECT_EQ(back.model.assistant_prefill, "<think>\n");
  EXPECT_NE(yaml.find("lr: 3.3e-07"), std::string::npos) << yaml;
}

TEST(Config, NestedLoraSectionLoadsOverridesPrintsAndValidates) {
  const ExperimentConfig c = load_config_text(
      "model:\n  path: m\n  lora: {rank: 8, alpha: 32, target_modules: [q_proj, k_proj, v_proj]}\n", "x.yaml",
      {"model.lora.dropout=0.05"});
  EXPECT_EQ(c.model.lora.rank, 8);
  EXPECT_DOUBLE_EQ(c.model.lora.alpha, 32);
  EXPECT_DOUBLE_EQ(c.model.lora.dropout, 0.05);
  EXPECT_EQ(c.model.lora.target_modules, (std::vector<std::string>{"q_proj", "k_proj", "v_proj"}));
  EXPECT_EQ(c.model.path, "m");
  const std::string yaml = config_to_yaml(c);
  EXPECT_NE(yaml.find("\n  lora:\n    rank: 8"), std::string::npos) << yaml;  // nested under model
  const ExperimentConfig back = load_config_text(yaml, "printed.yaml");
  EXPECT_EQ(config_to_yaml(back), yaml);
  EXPECT_EQ(back.model.lora.target_modules, c.model.lora.target_modules);
  EXPECT_EQ(default_config().model.lora.rank, 0);  // off by default

  auto typo = issues_of("model:\n  lora:\n    rnak: 8\n");
  ASSERT_EQ(typo.size(), 1u);
  EXPECT_EQ(typo[0].to_string(), "x.yaml:3:5: unknown key 'model.lora.rnak' (did you mean 'rank'?)");
  auto tower = issues_of("model:\n  freeze_vision_tower: false\n  lora:\n    rank: 4\n");
  ASSERT_EQ(tower.size(), 1u);
  EXPECT_NE(tower[0].message.find("freeze_vision_tower must stay true"), std::string::npos) << tower[0].message;
  auto empty = issues_of("model:\n  lora: {rank: 4, target_modules: []}\n");
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_NE(empty[0].message.find("target_modules"), std::string::npos) << empty[0].message;
  auto section = issues_of("", {"model.lora=8"});
  ASSERT_EQ(section.size(), 1u);
  EXPECT_NE(section[0].message.find("'model.lora' is a section"), std::string::npos) << section[0].message;
}

TEST(Config, ResolvedConfigIsWrittenIntoRunDir) {
  const auto dir = std::filesystem::temp_directory_path() / ("seer_cfg_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const ExperimentConfig c = default_config({"trainer.lr=4e-6"});
  write_resolved_config(c, (dir / "run").string());
  const ExperimentConfig back = load_config((dir / "run" / "config.yaml").string());
  EXPECT_DOUBLE_EQ(back.trainer.lr, 4e-6);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace seer
