#include "reward/unicode.h"

#include <cstdlib>

#include <utf8proc.h>

namespace seer::reward {
namespace {

bool is_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

/// utf8proc_map over a length-delimited buffer; nullopt-like empty + false on invalid input.
bool map_utf8(std::string_view text, int options, std::string& out) {
  utf8proc_uint8_t* dst = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                          static_cast<utf8proc_ssize_t>(text.size()), &dst,
                                          static_cast<utf8proc_option_t>(options));
  if (n < 0) {
    std::free(dst);
    return false;
  }
  out.assign(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
  std::free(dst);
  return true;
}

}  // namespace

std::string nfkc(std::string_view text) {
  if (is_ascii(text)) return std::string(text);  // ASCII is already NFKC
  std::string out;
  if (!map_utf8(text, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT, out)) return std::string(text);
  return out;
}

std::string nfkc_casefold(std::string_view text) {
  std::string out;
  if (!is_ascii(text) &&
      map_utf8(text, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD, out)) {
    return out;
  }
  out.assign(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim(std::string_view text) {
  size_t b = 0, e = text.size();
  while (b < e && is_space(text[b])) ++b;
  while (e > b && is_space(text[e - 1])) --e;
  return text.substr(b, e - b);
}

}  // namespace seer::reward
