#include "model/tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <utf8proc.h>

#include <algorithm>
#include <climits>
#include <mutex>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/check.h"

namespace seer::model {
namespace {

/// Token ids index dense tables, so an id sizes memory: none may reach 2^22 (4,194,304; the largest real
/// vocabularies hold ~262k). A larger id is a corrupt or hostile file (fuzzing found 2^31 - 1 asking for
/// gigabytes).
constexpr int64_t kMaxTokenId = (int64_t{1} << 22) - 1;

/// A token id from tokenizer.json: an integer in [0, kMaxTokenId]. Anything else (a float, a negative or huge
/// number, a string) is a seer::Error naming `what`; nlohmann's own get<int32_t>() converts 1e30 with undefined
/// behaviour (found by tests/fuzz/tokenizer_fuzz.cpp).
int32_t token_id(const nlohmann::json& v, const std::string& what) {
  SEER_CHECK(v.is_number_integer(), "{}: a token id must be an integer, got {}", what, v.dump());
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    SEER_CHECK(u <= static_cast<uint64_t>(kMaxTokenId), "{}: token id {} is out of range (ids stop at {})", what, u,
               kMaxTokenId);
    return static_cast<int32_t>(u);
  }
  const auto id = v.get<int64_t>();
  SEER_CHECK(id >= 0 && id <= kMaxTokenId, "{}: token id {} is out of range (ids stop at {})", what, id, kMaxTokenId);
  return static_cast<int32_t>(id);
}

using json = nlohmann::json;

// ---------------------------------------------------------------- UTF-8

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// Length of the (valid) UTF-8 character starting at s[i].
size_t char_len(std::string_view s, size_t i) {
  const auto b = static_cast<uint8_t>(s[i]);
  const size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
  return std::min(n, s.size() - i);
}

uint32_t decode_char(std::string_view s, size_t i, size_t n) {
  const auto b = static_cast<uint8_t>(s[i]);
  if (n == 1) return b;
  uint32_t cp = b & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
  return cp;
}

// ---------------------------------------------------------------- byte level

/// GPT-2's bytes_to_unicode: every byte gets a printable code point.
struct ByteLevelTable {
  std::string encode[256];                     // byte -> UTF-8 of its code point
  std::unordered_map<uint32_t, uint8_t> decode;  // code point -> byte
  ByteLevelTable() {
    std::vector<int> bs;
    for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
    for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
    for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
    std::vector<int> cs = bs;
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      if (std::find(bs.begin(), bs.end(), b) == bs.end()) {
        bs.push_back(b);
        cs.push_back(256 + n++);
      }
    }
    for (size_t i = 0; i < bs.size(); ++i) {
      append_utf8(encode[bs[i]], static_cast<uint32_t>(cs[i]));
      decode[static_cast<uint32_t>(cs[i])] = static_cast<uint8_t>(bs[i]);
    }
  }
};
const ByteLevelTable& byte_level() {
  static const ByteLevelTable t;
  return t;
}

std::string to_byte_level(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += byte_level().encode[c];
  return out;
}

// ---------------------------------------------------------------- regex

/// Oniguruma's `\s` (Unicode White_Space), which tokenizers' regexes mean; PCRE2's differs (U+180E).
constexpr const char* kWhiteSpace = "\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

std::string rewrite_whitespace(const std::string& pattern) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[i + 1];
      if (e == 's') {
        out += in_class ? std::string(kWhiteSpace) : "[" + std::string(kWhiteSpace) + "]";
      } else if (e == 'S' && !in_class) {
        out += "[^" + std::string(kWhiteSpace) + "]";
      } else {
        out += c;
        out += e;
      }
      ++i;
      continue;
    }
    if (c == '[' && !in_class) in_class = true;
    else if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

class Regex {
 public:
  explicit Regex(const std::string& pattern) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    const std::string p = rewrite_whitespace(pattern);
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.c_str()), p.size(), PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
    if (code_ == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      SEER_FAIL("regex '{}' does not compile at {}: {}", pattern, offset, reinterpret_cast<char*>(msg));
    }
    pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);  // optional speed-up; falls back to the interpreter
  }
  ~Regex() { pcre2_code_free(code_); }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  /// Splits `s` into matches and the text between them (tokenizers' SplitDelimiterBehavior::Isolated).
  std::vector<std::string> split_isolated(std::string_view s) const {
    std::vector<std::string> pieces;
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code_, nullptr);
    size_t start = 0, last = 0;
    while (start <= s.size()) {
      const int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), start, PCRE2_NO_UTF_CHECK, md, nullptr);
      if (rc < 0) break;
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      const size_t b = ov[0], e = ov[1];
      if (e == b) {  // empty match: move on one character
        if (b >= s.size()) break;
        start = b + char_len(s, b);
        continue;
      }
      if (b > last) pieces.emplace_back(s.substr(last, b - last));
      pieces.emplace_back(s.substr(b, e - b));
      last = start = e;
    }
    if (last < s.size()) pieces.emplace_back(s.substr(last));
    pcre2_match_data_free(md);
    return pieces;
  }

 private:
  pcre2_code* code_ = nullptr;
};

constexpr const char* kGpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// ---------------------------------------------------------------- components

struct NormalizerStep {
  enum Kind { kNfc, kNfkc, kNfd, kNfkd, kPrepend, kReplace, kLowercase } kind;
  std::string a, b;
};

struct PreTokenizerStep {
  enum Kind { kSplit, kByteLevel } kind;
  std::shared_ptr<Regex> regex;  // kSplit, or kByteLevel with use_regex
  bool add_prefix_space = false;
};

struct DecoderStep {
  enum Kind { kByteLevel, kReplace, kByteFallback, kFuse, kStrip } kind;
  std::string a, b;
  int start = 0, stop = 0;
};

struct AddedToken {
  std::string content;
  int32_t id;
  bool special, lstrip, rstrip;
};

std::string utf8proc_normalize(const std::string& s, int options) {
  utf8proc_uint8_t* dst = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                          static_cast<utf8proc_ssize_t>(s.size()), &dst,
                                          static_cast<utf8proc_option_t>(options));
  std::string out = n >= 0 ? std::string(reinterpret_cast<char*>(dst), static_cast<size_t>(n)) : s;
  std::free(dst);
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  std::string out;
  size_t at = 0;
  for (size_t hit = s.find(from); hit != std::string::npos; hit = s.find(from, at)) {
    out.append(s, at, hit - at);
    out += to;
    at = hit + from.size();
  }
  out.append(s, at, std::string::npos);
  return out;
}

}  // namespace

std::string utf8_lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
      out += static_cast<char>(b);
      ++i;
      continue;
    }
    size_t need = 0;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b == 0xE0) need = 2, lo = 0xA0;
    else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) need = 2;
    else if (b == 0xED) need = 2, hi = 0x9F;
    else if (b == 0xF0) need = 3, lo = 0x90;
    else if (b >= 0xF1 && b <= 0xF3) need = 3;
    else if (b == 0xF4) need = 3, hi = 0x8F;
    size_t k = 1;
    bool ok = need > 0;
    for (; ok && k <= need; ++k) {
      if (i + k >= s.size()) {
        ok = false;
        break;
      }
      const auto c = static_cast<uint8_t>(s[i + k]);
      const uint8_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (c < l || c > h) {
        ok = false;
        break;
      }
    }
    if (ok) {
      out.append(s.substr(i, need + 1));
      i += need + 1;
    } else {
      out += "\xEF\xBF\xBD";
      i += std::max<size_t>(1, k);
    }
  }
  return out;
}

struct Tokenizer::Impl {
  std::string path;
  std::unordered_map<std::string, int32_t> vocab;
  std::vector<std::string> id_to_token;
  /// (left id << 32 | right id) -> (rank, merged id)
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;
  std::vector<int32_t> byte_ids;  // id of "<0xXX>" per byte (byte fallback), -1 when absent
  mutable std::mutex cache_mu;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache;  // pre-token -> ids
  std::vector<AddedToken> added;
  std::vector<std::vector<size_t>> added_by_byte = std::vector<std::vector<size_t>>(256);  // first byte -> longest first
  std::vector<bool> special;
  std::vector<NormalizerStep> normalizer;
  std::vector<PreTokenizerStep> pre_tokenizer;
  std::vector<DecoderStep> decoder;
  std::vector<std::pair<bool, int32_t>> template_single;  // (is sequence, special id)
  bool has_template = false;
  bool byte_fallback = false, fuse_unk = false, ignore_merges = false, byte_level_model = false;
  int32_t unk_id = -1;

  void parse_normalizer(const json& n) {
    if (n.is_null()) return;
    const std::string type = n.at("type");
    if (type == "Sequence") {
      for (const auto& x : n.at("normalizers")) parse_normalizer(x);
    } else if (type == "NFC") {
      normalizer.push_back({NormalizerStep::kNfc, "", ""});
    } else if (type == "NFKC") {
      normalizer.push_back({NormalizerStep::kNfkc, "", ""});
    } else if (type == "NFD") {
      normalizer.push_back({NormalizerStep::kNfd, "", ""});
    } else if (type == "NFKD") {
      normalizer.push_back({NormalizerStep::kNfkd, "", ""});
    } else if (type == "Lowercase") {
      normalizer.push_back({NormalizerStep::kLowercase, "", ""});
    } else if (type == "Prepend") {
      normalizer.push_back({NormalizerStep::kPrepend, n.at("prepend"), ""});
    } else if (type == "Replace") {
      SEER_CHECK(n.at("pattern").contains("String"), "{}: Replace normalizer with a Regex pattern is not supported", path);
      normalizer.push_back({NormalizerStep::kReplace, n["pattern"]["String"], n.at("content")});
    } else {
      SEER_FAIL("{}: normalizer '{}' is not supported", path, type);
    }
  }

  void parse_pre_tokenizer(const json& p) {
    if (p.is_null()) return;
    const std::string type = p.at("type");
    if (type == "Sequence") {
      for (const auto& x : p.at("pretokenizers")) parse_pre_tokenizer(x);
    } else if (type == "Split") {
      SEER_CHECK(p.value("behavior", "") == "Isolated" && !p.value("invert", false),
                 "{}: Split pre-tokenizer with behavior '{}' / invert is not supported (Isolated only)", path,
                 p.value("behavior", ""));
      const auto& pat = p.at("pattern");
      const std::string regex = pat.contains("Regex") ? pat["Regex"].get<std::string>() : "";
      SEER_CHECK(!regex.empty(), "{}: Split pre-tokenizer needs a Regex pattern", path);
      pre_tokenizer.push_back({PreTokenizerStep::kSplit, std::make_shared<Regex>(regex), false});
    } else if (type == "ByteLevel") {
      PreTokenizerStep s{PreTokenizerStep::kByteLevel, nullptr, p.value("add_prefix_space", false)};
      if (p.value("use_regex", true)) s.regex = std::make_shared<Regex>(kGpt2Pattern);
      pre_tokenizer.push_back(s);
      byte_level_model = true;
    } else {
      SEER_FAIL("{}: pre-tokenizer '{}' is not supported", path, type);
    }
  }

  void parse_post_processor(const json& p) {
    if (p.is_null()) return;
    const std::string type = p.at("type");
    if (type == "Sequence") {
      for (const auto& x : p.at("processors")) parse_post_processor(x);
    } else if (type == "ByteLevel") {
      // Offsets only; ids unchanged.
    } else if (type == "TemplateProcessing") {
      has_template = true;
      for (const auto& item : p.at("single")) {
        if (item.contains("Sequence")) {
          template_single.emplace_back(true, -1);
        } else {
          const std::string name = item.at("SpecialToken").at("id");
          const auto& st = p.at("special_tokens").at(name);
          for (const auto& id : st.at("ids")) template_single.emplace_back(false, token_id(id, "post_processor special_tokens " + name));
        }
      }
    } else {
      SEER_FAIL("{}: post-processor '{}' is not supported", path, type);
    }
  }

  void parse_decoder(const json& d) {
    if (d.is_null()) return;
    const std::string type = d.at("type");
    if (type == "Sequence") {
      for (const auto& x : d.at("decoders")) parse_decoder(x);
    } else if (type == "ByteLevel") {
      decoder.push_back({DecoderStep::kByteLevel, "", "", 0, 0});
    } else if (type == "Replace") {
      SEER_CHECK(d.at("pattern").contains("String"), "{}: Replace decoder with a Regex pattern is not supported", path);
      decoder.push_back({DecoderStep::kReplace, d["pattern"]["String"], d.at("content"), 0, 0});
    } else if (type == "ByteFallback") {
      decoder.push_back({DecoderStep::kByteFallback, "", "", 0, 0});
    } else if (type == "Fuse") {
      decoder.push_back({DecoderStep::kFuse, "", "", 0, 0});
    } else if (type == "Strip") {
      decoder.push_back({DecoderStep::kStrip, d.at("content"), "", d.value("start", 0), d.value("stop", 0)});
    } else {
      SEER_FAIL("{}: decoder '{}' is not supported", path, type);
    }
  }

  std::string normalize(std::string s) const {
    for (const auto& n : normalizer) {
      switch (n.kind) {
        case NormalizerStep::kNfc: s = utf8proc_normalize(s, UTF8PROC_STABLE | UTF8PROC_COMPOSE); break;
        case NormalizerStep::kNfkc: s = utf8proc_normalize(s, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT); break;
        case NormalizerStep::kNfd: s = utf8proc_normalize(s, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE); break;
        case NormalizerStep::kNfkd: s = utf8proc_normalize(s, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT); break;
        case NormalizerStep::kLowercase: s = utf8proc_normalize(s, UTF8PROC_STABLE | UTF8PROC_CASEFOLD); break;
        case NormalizerStep::kPrepend: if (!s.empty()) s = n.a + s; break;
        case NormalizerStep::kReplace: s = replace_all(std::move(s), n.a, n.b); break;
      }
    }
    return s;
  }

  std::vector<std::string> pre_tokenize(const std::string& s) const {
    std::vector<std::string> pieces{s};
    for (const auto& step : pre_tokenizer) {
      std::vector<std::string> next;
      for (const auto& piece : pieces) {
        if (step.kind == PreTokenizerStep::kSplit) {
          for (auto& x : step.regex->split_isolated(piece)) next.push_back(std::move(x));
        } else {
          std::string p = piece;
          if (step.add_prefix_space && !p.empty() && p[0] != ' ') p = " " + p;
          if (step.regex) {
            for (auto& x : step.regex->split_isolated(p)) next.push_back(to_byte_level(x));
          } else {
            next.push_back(to_byte_level(p));
          }
        }
      }
      pieces = std::move(next);
    }
    return pieces;
  }

  /// BPE over one pre-token (tokenizers' BPE::merge_word): characters to ids (byte fallback or unk for
  /// unknown ones), then the lowest-ranked adjacent merge first (leftmost on ties) until none applies.
  void bpe(const std::string& word, std::vector<int32_t>& out) const {
    if (word.empty()) return;
    if (ignore_merges) {
      auto it = vocab.find(word);
      if (it != vocab.end()) {
        out.push_back(it->second);
        return;
      }
    }
    {
      std::lock_guard<std::mutex> lock(cache_mu);
      auto it = cache.find(word);
      if (it != cache.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    std::vector<int32_t> symbols;
    bool last_unk = false;
    for (size_t i = 0; i < word.size();) {
      const size_t n = char_len(word, i);
      auto it = vocab.find(word.substr(i, n));
      if (it != vocab.end()) {
        symbols.push_back(it->second);
        last_unk = false;
      } else {
        bool all = byte_fallback;
        for (size_t k = 0; all && k < n; ++k) all = byte_ids[static_cast<uint8_t>(word[i + k])] >= 0;
        if (all) {
          for (size_t k = 0; k < n; ++k) symbols.push_back(byte_ids[static_cast<uint8_t>(word[i + k])]);
          last_unk = false;
        } else {
          SEER_CHECK(unk_id >= 0, "{}: '{}' is not in the vocabulary and there is no unk_token", path, word.substr(i, n));
          if (!(fuse_unk && last_unk)) symbols.push_back(unk_id);
          last_unk = true;
        }
      }
      i += n;
    }
    while (symbols.size() > 1) {
      int32_t best = INT32_MAX, merged = -1;
      size_t at = 0;
      for (size_t i = 0; i + 1 < symbols.size(); ++i) {
        const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(symbols[i])) << 32) | static_cast<uint32_t>(symbols[i + 1]);
        auto it = merges.find(key);
        if (it != merges.end() && it->second.first < best) {
          best = it->second.first;
          merged = it->second.second;
          at = i;
        }
      }
      if (merged < 0) break;
      symbols[at] = merged;
      symbols.erase(symbols.begin() + static_cast<long>(at) + 1);
    }
    out.insert(out.end(), symbols.begin(), symbols.end());
    std::lock_guard<std::mutex> lock(cache_mu);
    if (cache.size() < 200000) cache.emplace(word, std::move(symbols));
  }

  void encode_segment(const std::string& text, std::vector<int32_t>& out) const {
    for (const auto& piece : pre_tokenize(normalize(text))) bpe(piece, out);
  }
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_file(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  json j;
  try {
    j = json::parse(read_file(path));
    const auto& m = j.at("model");
    const std::string type = m.value("type", "BPE");
    SEER_CHECK(type == "BPE", "{}: model type '{}' is not supported (BPE only)", path, type);
    SEER_CHECK(m.value("dropout", json()).is_null(), "{}: BPE dropout is not supported", path);
    SEER_CHECK(m.value("continuing_subword_prefix", json()).is_null() || m["continuing_subword_prefix"] == "",
               "{}: continuing_subword_prefix is not supported", path);
    SEER_CHECK(m.value("end_of_word_suffix", json()).is_null() || m["end_of_word_suffix"] == "",
               "{}: end_of_word_suffix is not supported", path);
    int32_t max_id = -1;
    for (auto it = m.at("vocab").begin(); it != m.at("vocab").end(); ++it) {
      const int32_t id = token_id(*it, path + ": model.vocab '" + it.key() + "'");
      impl->vocab[it.key()] = id;
      max_id = std::max(max_id, id);
    }
    int rank = 0;
    for (const auto& merge : m.at("merges")) {
      std::string a, b;
      if (merge.is_string()) {
        const std::string s = merge;
        const size_t sp = s.find(' ');
        SEER_CHECK(sp != std::string::npos, "{}: merge '{}' is not 'a b'", path, s);
        a = s.substr(0, sp);
        b = s.substr(sp + 1);
      } else {
        a = merge.at(0);
        b = merge.at(1);
      }
      auto ia = impl->vocab.find(a), ib = impl->vocab.find(b), im = impl->vocab.find(a + b);
      SEER_CHECK(ia != impl->vocab.end() && ib != impl->vocab.end() && im != impl->vocab.end(),
                 "{}: merge '{} {}' uses tokens that are not in the vocabulary", path, a, b);
      const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(ia->second)) << 32) | static_cast<uint32_t>(ib->second);
      impl->merges.emplace(key, std::make_pair(rank++, im->second));
    }
    impl->byte_ids.assign(256, -1);
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      auto it = impl->vocab.find(name);
      if (it != impl->vocab.end()) impl->byte_ids[static_cast<size_t>(b)] = it->second;
    }
    impl->byte_fallback = m.value("byte_fallback", false);
    impl->fuse_unk = m.value("fuse_unk", false);
    impl->ignore_merges = m.value("ignore_merges", false);
    if (m.contains("unk_token") && m["unk_token"].is_string()) {
      auto it = impl->vocab.find(m["unk_token"].get<std::string>());
      if (it != impl->vocab.end()) impl->unk_id = it->second;
    }
    for (const auto& a : j.value("added_tokens", json::array())) {
      AddedToken t{a.at("content"), token_id(a.at("id"), path + ": added_tokens id"), a.value("special", false),
                   a.value("lstrip", false), a.value("rstrip", false)};
      impl->added.push_back(t);
      impl->vocab[t.content] = t.id;
      max_id = std::max(max_id, t.id);
    }
    // Longest first, so the first match at a position is the longest (leftmost-longest).
    std::stable_sort(impl->added.begin(), impl->added.end(),
                     [](const AddedToken& x, const AddedToken& y) { return x.content.size() > y.content.size(); });
    for (size_t k = 0; k < impl->added.size(); ++k) {
      if (!impl->added[k].content.empty()) impl->added_by_byte[static_cast<uint8_t>(impl->added[k].content[0])].push_back(k);
    }
    impl->id_to_token.assign(static_cast<size_t>(max_id + 1), "");
    impl->special.assign(static_cast<size_t>(max_id + 1), false);
    for (const auto& [tok, id] : impl->vocab) impl->id_to_token[static_cast<size_t>(id)] = tok;
    for (const auto& t : impl->added) impl->special[static_cast<size_t>(t.id)] = t.special;
    impl->parse_normalizer(j.value("normalizer", json()));
    impl->parse_pre_tokenizer(j.value("pre_tokenizer", json()));
    impl->parse_post_processor(j.value("post_processor", json()));
    impl->parse_decoder(j.value("decoder", json()));
  } catch (const json::exception& e) {
    SEER_FAIL("{}: malformed tokenizer.json: {}", path, e.what());
  }
  return Tokenizer(std::move(impl));
}

std::vector<int32_t> Tokenizer::encode(std::string_view raw, bool add_special_tokens) const {
  const Impl& m = *impl_;
  const std::string text = utf8_lossy(raw);
  std::vector<int32_t> ids;
  size_t segment = 0, i = 0;
  while (i < text.size()) {
    const AddedToken* hit = nullptr;
    for (size_t k : m.added_by_byte[static_cast<uint8_t>(text[i])]) {
      const AddedToken& t = m.added[k];
      if (text.compare(i, t.content.size(), t.content) == 0) {
        hit = &t;
        break;
      }
    }
    if (hit == nullptr) {
      i += char_len(text, i);
      continue;
    }
    size_t seg_end = i, next = i + hit->content.size();
    if (hit->lstrip) {
      while (seg_end > segment && (text[seg_end - 1] == ' ' || text[seg_end - 1] == '\t' || text[seg_end - 1] == '\n')) --seg_end;
    }
    if (hit->rstrip) {
      while (next < text.size() && (text[next] == ' ' || text[next] == '\t' || text[next] == '\n')) ++next;
    }
    if (seg_end > segment) m.encode_segment(text.substr(segment, seg_end - segment), ids);
    ids.push_back(hit->id);
    segment = i = next;
  }
  if (segment < text.size()) m.encode_segment(text.substr(segment), ids);
  if (!add_special_tokens || !m.has_template) return ids;
  std::vector<int32_t> out;
  for (const auto& [is_sequence, id] : m.template_single) {
    if (is_sequence) out.insert(out.end(), ids.begin(), ids.end());
    else out.push_back(id);
  }
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  const Impl& m = *impl_;
  std::vector<std::string> tokens;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= m.id_to_token.size()) continue;
    if (skip_special_tokens && m.special[static_cast<size_t>(id)]) continue;
    tokens.push_back(m.id_to_token[static_cast<size_t>(id)]);
  }
  for (const auto& step : m.decoder) {
    switch (step.kind) {
      case DecoderStep::kByteLevel: {
        std::string bytes;
        for (const auto& t : tokens) {
          for (size_t i = 0; i < t.size();) {
            const size_t n = char_len(t, i);
            auto it = byte_level().decode.find(decode_char(t, i, n));
            if (it != byte_level().decode.end()) bytes += static_cast<char>(it->second);
            else bytes.append(t, i, n);
            i += n;
          }
        }
        tokens = {utf8_lossy(bytes)};
        break;
      }
      case DecoderStep::kReplace:
        for (auto& t : tokens) t = replace_all(t, step.a, step.b);
        break;
      case DecoderStep::kByteFallback: {
        std::vector<std::string> out;
        std::string pending;
        size_t pending_count = 0;
        auto flush = [&] {
          if (pending_count == 0) return;
          if (utf8_lossy(pending) == pending) {
            out.push_back(pending);
          } else {
            for (size_t k = 0; k < pending_count; ++k) out.push_back("\xEF\xBF\xBD");
          }
          pending.clear();
          pending_count = 0;
        };
        for (const auto& t : tokens) {
          if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
            pending += static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16));
            ++pending_count;
          } else {
            flush();
            out.push_back(t);
          }
        }
        flush();
        tokens = std::move(out);
        break;
      }
      case DecoderStep::kFuse: {
        std::string all;
        for (const auto& t : tokens) all += t;
        tokens = {all};
        break;
      }
      case DecoderStep::kStrip:
        for (auto& t : tokens) {
          int start = step.start;
          while (start-- > 0 && t.compare(0, step.a.size(), step.a) == 0 && !step.a.empty()) t.erase(0, step.a.size());
          int stop = step.stop;
          while (stop-- > 0 && !step.a.empty() && t.size() >= step.a.size() &&
                 t.compare(t.size() - step.a.size(), step.a.size(), step.a) == 0) {
            t.erase(t.size() - step.a.size());
          }
        }
        break;
    }
  }
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

int32_t Tokenizer::token_to_id(std::string_view token) const {
  auto it = impl_->vocab.find(std::string(token));
  return it == impl_->vocab.end() ? -1 : it->second;
}

std::string Tokenizer::id_to_token(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->id_to_token.size() ? impl_->id_to_token[static_cast<size_t>(id)] : "";
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->special.size() && impl_->special[static_cast<size_t>(id)];
}

int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(impl_->id_to_token.size()); }

}  // namespace seer::model
