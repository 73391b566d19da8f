// Hugging Face tokenizer.json tokenizers (the `tokenizers` Rust crate, v0.22 semantics): added and special
// tokens split out first (leftmost-longest), then normalizer (NFC, NFKC, Prepend, Replace, Sequence),
// pre-tokenizer (Split with a regex, ByteLevel, Sequence), BPE (byte-level, or SentencePiece-style with
// byte fallback; ignore_merges), post-processor (ByteLevel, TemplateProcessing, Sequence) and decoder
// (ByteLevel, Replace, ByteFallback, Fuse, Strip, Sequence). Regexes run on PCRE2 with `\s` rewritten to
// Oniguruma's White_Space set, as the reference uses. Components seer does not implement are refused by name.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace seer::model {

class Tokenizer {
 public:
  /// Loads tokenizer.json. Throws seer::Error naming the file and the unsupported component or bad field.
  static Tokenizer from_file(const std::string& path);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  /// Token ids of `text` (UTF-8; invalid bytes are read as U+FFFD). With `add_special_tokens` the
  /// post-processor's template applies (e.g. a BOS). Added tokens written in the text are matched.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = false) const;
  /// Text of `ids` through the decoder; special tokens left out when `skip_special_tokens`.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const;

  int32_t token_to_id(std::string_view token) const;  ///< -1 when absent
  std::string id_to_token(int32_t id) const;          ///< "" when absent
  bool is_special(int32_t id) const;
  int32_t vocab_size() const;                          ///< largest id + 1

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Rust's String::from_utf8_lossy: each maximal invalid subsequence becomes U+FFFD.
std::string utf8_lossy(std::string_view bytes);

}  // namespace seer::model
