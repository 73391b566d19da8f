#include "reward/bbox.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "reward/unicode.h"

namespace seer::reward {
namespace {

/// A plain decimal number spanning the whole of `s` (no "nan", "inf" or hex).
std::optional<double> strict_number(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.size() > 64) return std::nullopt;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) return std::nullopt;
  }
  const std::string text(s);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

std::optional<Box> parse_box(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '{') {
    const auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("bbox_2d")) return std::nullopt;
    const auto& a = j["bbox_2d"];
    if (!a.is_array() || a.size() != 4) return std::nullopt;
    Box b{};
    for (size_t i = 0; i < 4; ++i) {
      if (!a[i].is_number()) return std::nullopt;
      b[i] = a[i].get<double>();
      if (!std::isfinite(b[i])) return std::nullopt;
    }
    return b;
  }
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') return std::nullopt;
  std::string_view inner = text.substr(1, text.size() - 2);
  Box b{};
  size_t n = 0;
  while (true) {
    const size_t comma = inner.find(',');
    const auto v = strict_number(inner.substr(0, comma));
    if (!v || n == 4) return std::nullopt;
    b[n++] = *v;
    if (comma == std::string_view::npos) break;
    inner.remove_prefix(comma + 1);
  }
  if (n != 4) return std::nullopt;
  return b;
}

bool valid_box(const Box& b) {
  for (double v : b) {
    if (!std::isfinite(v)) return false;
  }
  return b[2] > b[0] && b[3] > b[1];
}

double iou(const Box& a, const Box& b) {
  if (!valid_box(a) || !valid_box(b)) return 0.0;
  const double iw = std::min(a[2], b[2]) - std::max(a[0], b[0]);
  const double ih = std::min(a[3], b[3]) - std::max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0.0;
  const double inter = iw * ih;
  const double uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return uni > 0 ? std::clamp(inter / uni, 0.0, 1.0) : 0.0;
}

std::optional<Box> to_original_frame(const Box& p, BoxFrame frame, const ImageSize& model_input,
                                     const ImageSize& original) {
  double sx = 1, sy = 1;
  switch (frame) {
    case BoxFrame::kAbsolute:
      if (model_input.width > 0 && model_input.height > 0 && original.width > 0 && original.height > 0) {
        sx = original.width / model_input.width;
        sy = original.height / model_input.height;
      } else if (model_input.width > 0 || original.width > 0) {
        return std::nullopt;  // one size known, the other not: the mapping is unknown
      }
      break;
    case BoxFrame::kNorm1000:
    case BoxFrame::kNorm1:
      if (original.width <= 0 || original.height <= 0) return std::nullopt;
      sx = original.width / (frame == BoxFrame::kNorm1000 ? 1000.0 : 1.0);
      sy = original.height / (frame == BoxFrame::kNorm1000 ? 1000.0 : 1.0);
      break;
  }
  return Box{p[0] * sx, p[1] * sy, p[2] * sx, p[3] * sy};
}

}  // namespace seer::reward
