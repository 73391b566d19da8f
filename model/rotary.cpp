#include "model/rotary.h"

#include <fmt/ranges.h>

#include "core/check.h"

namespace seer::model {

RotaryTable rotary_table(const torch::Tensor& positions, int64_t head_dim, double theta,
                         const std::vector<int64_t>& mrope_section, at::ScalarType dtype) {
  const int64_t d = head_dim;
  SEER_CHECK(positions.dim() == 2 || (positions.dim() == 3 && positions.size(0) == 3),
             "rotary: positions must be (B, T) or (3, B, T), got {}", fmt::format("{}", fmt::join(positions.sizes(), "x")));
  auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(positions.device());
  auto inv_freq = 1.0 / torch::pow(torch::tensor(theta, f32), torch::arange(0, d, 2, f32) / static_cast<double>(d));
  auto freqs = positions.to(torch::kFloat32).unsqueeze(-1) * inv_freq;  // ([3,] B, T, d/2)
  auto emb = torch::cat({freqs, freqs}, -1);                            // ([3,] B, T, d)
  if (positions.dim() == 3) {
    SEER_CHECK(mrope_section.size() == 3 && (mrope_section[0] + mrope_section[1] + mrope_section[2]) * 2 == d,
               "rotary: 3-stream positions need an mrope_section of 3 counts summing to head_dim / 2 = {}", d / 2);
    // Sections repeated twice over the two halves of d; chunk i reads stream i % 3.
    std::vector<torch::Tensor> chunks;
    int64_t at = 0;
    for (int half = 0; half < 2; ++half) {
      for (int64_t s = 0; s < 3; ++s) {
        chunks.push_back(emb.select(0, s).narrow(-1, at, mrope_section[static_cast<size_t>(s)]));
        at += mrope_section[static_cast<size_t>(s)];
      }
    }
    emb = torch::cat(chunks, -1);  // (B, T, d)
  }
  return {emb.cos().unsqueeze(1).to(dtype), emb.sin().unsqueeze(1).to(dtype)};
}

torch::Tensor apply_rotary(const torch::Tensor& x, const RotaryTable& table) {
  const int64_t h = x.size(-1) / 2;
  auto rotated = torch::cat({-x.narrow(-1, h, h), x.narrow(-1, 0, h)}, -1);
  return x * table.cos + rotated * table.sin;
}

}  // namespace seer::model
