#include "model/mrope.h"

#include <algorithm>

#include <fmt/ranges.h>

#include "core/check.h"

namespace seer::model {

MultimodalPositions multimodal_positions(const torch::Tensor& ids, const torch::Tensor& attention_mask,
                                         const std::vector<GridThw>& grids, int64_t merge_size,
                                         int64_t image_token_id) {
  SEER_CHECK(ids.dim() == 2 && attention_mask.sizes() == ids.sizes(), "rope index: ids {} and attention mask {}",
             fmt::format("{}", fmt::join(ids.sizes(), "x")), fmt::format("{}", fmt::join(attention_mask.sizes(), "x")));
  const int64_t B = ids.size(0), T = ids.size(1);
  auto id = ids.to(torch::kCPU, torch::kInt64).contiguous();
  auto mask = attention_mask.to(torch::kCPU, torch::kInt64).contiguous();
  auto pos = torch::ones({3, B, T}, torch::kInt64);
  auto deltas = torch::zeros({B, 1}, torch::kInt64);
  auto p = pos.accessor<int64_t, 3>();
  const auto ia = id.accessor<int64_t, 2>();
  const auto ma = mask.accessor<int64_t, 2>();
  size_t image = 0;
  for (int64_t b = 0; b < B; ++b) {
    int64_t next = 0;     // first position of the next text token (max used + 1)
    int64_t largest = -1;
    for (int64_t t = 0; t < T;) {
      if (ma[b][t] == 0) {
        ++t;
        continue;
      }
      if (ia[b][t] != image_token_id) {
        for (int s = 0; s < 3; ++s) p[s][b][t] = next;
        largest = next++;
        ++t;
        continue;
      }
      SEER_CHECK(image < grids.size(), "rope index: row {} has more images than the {} image grids given", b,
                 grids.size());
      const auto [gt, gh, gw] = grids[image++];
      const int64_t lh = gh / merge_size, lw = gw / merge_size, n = gt * lh * lw;
      int64_t filled = 0;
      for (int64_t f = 0; f < gt; ++f) {
        for (int64_t r = 0; r < lh; ++r) {
          for (int64_t c = 0; c < lw; ++c, ++t) {
            while (t < T && ma[b][t] == 0) ++t;  // padding inside an image run is skipped, as transformers does
            SEER_CHECK(t < T && ia[b][t] == image_token_id,
                       "rope index: row {}: image {} needs {} image tokens, found {}", b, image - 1, n, filled);
            p[0][b][t] = next + f;
            p[1][b][t] = next + r;
            p[2][b][t] = next + c;
            largest = std::max({largest, next + f, next + r, next + c});
            ++filled;
          }
        }
      }
      next = largest + 1;
    }
    deltas[b][0] = largest + 1 - T;
  }
  SEER_CHECK(image == grids.size(), "rope index: {} image grids given, {} images in the ids", grids.size(), image);
  return {pos.to(ids.device()), deltas.to(ids.device())};
}

}  // namespace seer::model
