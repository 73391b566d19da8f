// tokenizer.json tokenizers against Hugging Face `tokenizers` outputs (../shared/golden/tokenizers):
// encode with and without special tokens, and decode, exact for every case of every tokenizer.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/check.h"
#include "model/chat_template.h"
#include "model/tokenizer.h"

namespace seer::model {
namespace {

std::string tokenizers_dir() {
  const char* env = std::getenv("SEER_GOLDEN_DIR");
  return std::string(env != nullptr && *env != '\0' ? env : SEER_DEFAULT_GOLDEN_DIR) + "/tokenizers";
}

class TokenizerGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerGolden, EveryCaseExact) {
  const std::string dir = tokenizers_dir() + "/" + GetParam();
  const Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  std::ifstream in(dir + "/cases.jsonl");
  ASSERT_TRUE(in.good()) << dir;
  std::string line;
  int n = 0, failures = 0;
  while (std::getline(in, line)) {
    const auto c = nlohmann::json::parse(line);
    const std::string text = c["text"];
    const auto expect_plain = c["ids_no_special"].get<std::vector<int32_t>>();
    const auto expect_default = c["ids_default"].get<std::vector<int32_t>>();
    const auto plain = tok.encode(text, false);
    const auto with_special = tok.encode(text, true);
    const std::string decoded = tok.decode(expect_plain, false);
    const bool ok = plain == expect_plain && with_special == expect_default && decoded == c["decoded"].get<std::string>();
    if (!ok && failures++ < 5) {
      ADD_FAILURE() << GetParam() << " case " << n << " text " << nlohmann::json(text).dump() << "\n expected "
                    << nlohmann::json(expect_plain).dump() << "\n got      " << nlohmann::json(plain).dump()
                    << "\n default ok " << (with_special == expect_default) << ", decoded "
                    << nlohmann::json(decoded).dump() << " vs " << c["decoded"].dump();
    }
    ++n;
  }
  EXPECT_EQ(failures, 0) << failures << " of " << n << " cases differ";
  EXPECT_GE(n, 1) << "no cases for " << GetParam();  // the folder decides how many
}

TEST_P(TokenizerGolden, ChatTemplatesRenderTextAndIdsExactly) {
  const std::string dir = tokenizers_dir() + "/" + GetParam();
  const Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  std::ifstream cfg_in(dir + "/tokenizer_config.json");
  const auto cfg = nlohmann::ordered_json::parse(cfg_in);
  std::ifstream in(dir + "/chat_cases.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    const auto c = nlohmann::ordered_json::parse(line);
    const std::string tmpl = c.contains("chat_template") ? c["chat_template"].get<std::string>()
                                                         : cfg["chat_template"].get<std::string>();
    const ChatFamily family = detect_chat_family(tmpl);
    ChatOptions o;
    o.add_generation_prompt = c["add_generation_prompt"];
    const auto& kw = c["kwargs"];
    if (kw.contains("enable_thinking")) o.enable_thinking = kw["enable_thinking"].get<bool>();
    if (kw.contains("tools")) o.tools = kw["tools"];
    if (kw.contains("bos_token") && kw["bos_token"].is_string()) o.bos_token = kw["bos_token"];
    if (kw.contains("eos_token") && kw["eos_token"].is_string()) o.eos_token = kw["eos_token"];
    const std::string rendered = render_chat(family, messages_from_json(c["messages"]), o);
    EXPECT_EQ(rendered, c["rendered"].get<std::string>()) << GetParam() << " " << c["name"];
    EXPECT_EQ(tok.encode(rendered, false), c["ids"].get<std::vector<int32_t>>()) << GetParam() << " " << c["name"];
    ++n;
  }
  EXPECT_GE(n, 3);
}

/// Every sub-folder of the golden tokenizers folder that holds a tokenizer.json (names and count are the folder's).
std::vector<std::string> golden_tokenizers() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(tokenizers_dir(), ec)) {
    if (std::filesystem::exists(entry.path() / "tokenizer.json")) out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, TokenizerGolden, ::testing::ValuesIn(golden_tokenizers()));
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TokenizerGolden);

TEST(TokenizerGoldenFolder, HoldsAtLeastOneTokenizer) {
  EXPECT_FALSE(golden_tokenizers().empty()) << "no */tokenizer.json under " << tokenizers_dir();
}

// Found by tests/fuzz/tokenizer_fuzz.cpp: a token id of 1e30 reached nlohmann's float-to-int conversion
// (undefined behaviour), and 2^31 - 1 asked for gigabytes of id table. Every id that is not an integer in
// [0, 2^22) is now a seer::Error naming the field.
TEST(Tokenizer, TokenIdsThatAreNotIntegersInRangeAreErrorsNamingTheField) {
  const std::string path = (std::filesystem::temp_directory_path() / "seer-tokenizer-bad-id.json").string();
  for (const std::string& bad : {std::string("1e30"), std::string("-1"), std::string("4294967296"),
                                 std::string("2147483647"), std::string("4194304"),
                                 std::string("18446744073709551615"), std::string("2.5"), std::string("\"7\"")}) {
    for (const bool in_vocab : {true, false}) {
      const std::string vocab = in_vocab ? "{\"a\": " + bad + "}" : "{\"a\": 0}";
      const std::string added = in_vocab ? "[]" : "[{\"id\": " + bad + ", \"content\": \"<x>\"}]";
      std::ofstream(path) << "{\"model\": {\"type\": \"BPE\", \"vocab\": " << vocab
                          << ", \"merges\": []}, \"added_tokens\": " << added << "}";
      try {
        (void)Tokenizer::from_file(path);
        ADD_FAILURE() << bad << (in_vocab ? " in the vocabulary" : " as an added token id") << " was accepted";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(in_vocab ? "model.vocab" : "added_tokens"), std::string::npos) << e.what();
      }
    }
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace seer::model
