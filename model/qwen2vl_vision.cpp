#include "model/qwen2vl_vision.h"

#include <algorithm>
#include <cmath>

#include <fmt/ranges.h>

#include "core/check.h"

namespace seer::model {
namespace {

torch::Tensor rotate_half(const torch::Tensor& x) {
  const int64_t h = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, h, h), x.narrow(-1, 0, h)}, -1);
}

/// apply_rotary_pos_emb_vision: x (S, H, d) rotated in float32 by angles (S, d/2) repeated to (S, d).
torch::Tensor rotate(const torch::Tensor& x, const torch::Tensor& angles) {
  auto emb = torch::cat({angles, angles}, -1).unsqueeze(1);  // (S, 1, d)
  auto xf = x.to(torch::kFloat);
  return (xf * emb.cos() + rotate_half(xf) * emb.sin()).to(x.scalar_type());
}

}  // namespace

torch::Tensor vision_rotary_angles(const std::vector<GridThw>& grids, int64_t head_dim, int64_t merge_size,
                                   double theta) {
  const int64_t dim = head_dim / 2;  // VisionRotaryEmbedding(head_dim // 2): dim/2 frequencies per axis
  auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  std::vector<torch::Tensor> rows, cols;
  int64_t max_side = 1;
  for (const auto& [t, h, w] : grids) {
    SEER_CHECK(h % merge_size == 0 && w % merge_size == 0, "vision grid {}x{} is not a multiple of merge size {}", h, w,
               merge_size);
    auto window_order = [&](const torch::Tensor& grid) {  // (h, w) -> merge-window order, flattened
      return grid.reshape({h / merge_size, merge_size, w / merge_size, merge_size}).permute({0, 2, 1, 3}).flatten();
    };
    auto hpos = window_order(torch::arange(h, i64).unsqueeze(1).expand({h, w}));
    auto wpos = window_order(torch::arange(w, i64).unsqueeze(0).expand({h, w}));
    rows.push_back(hpos.repeat({t}));
    cols.push_back(wpos.repeat({t}));
    max_side = std::max({max_side, h, w});
  }
  auto inv_freq = 1.0 / torch::pow(torch::tensor(theta, torch::kFloat),
                                   torch::arange(0, dim, 2, i64).to(torch::kFloat) / static_cast<double>(dim));
  auto table = torch::outer(torch::arange(max_side, i64).to(torch::kFloat), inv_freq);  // (max_side, dim/2)
  return torch::cat({table.index_select(0, torch::cat(rows)), table.index_select(0, torch::cat(cols))}, 1);
}

torch::Tensor frame_block_mask(const std::vector<GridThw>& grids, const torch::TensorOptions& options) {
  std::vector<torch::Tensor> ids;
  int64_t frame = 0;
  for (const auto& [t, h, w] : grids) {
    for (int64_t f = 0; f < t; ++f) ids.push_back(torch::full({h * w}, frame++, torch::TensorOptions().dtype(torch::kInt64)));
  }
  auto id = torch::cat(ids).to(options.device());
  return id.unsqueeze(0) == id.unsqueeze(1);
}

Qwen2VisionBlockImpl::Qwen2VisionBlockImpl(const Qwen2VisionConfig& c) : c_(c) {
  const int64_t E = c.embed_dim;
  if (c.rms_norm) {
    rms1 = register_module("norm1", RmsNorm(E, c.layer_norm_eps));
    rms2 = register_module("norm2", RmsNorm(E, c.layer_norm_eps));
  } else {
    auto ln = [&] { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({E}).eps(c.layer_norm_eps)); };
    norm1 = register_module("norm1", ln());
    norm2 = register_module("norm2", ln());
  }
  auto attn = register_module("attn", std::make_shared<torch::nn::Module>());
  qkv = attn->register_module("qkv", Linear(E, 3 * E));
  proj = attn->register_module("proj", Linear(E, E));
  auto mlp = register_module("mlp", std::make_shared<torch::nn::Module>());
  if (c.gated_mlp) {
    gate_proj = mlp->register_module("gate_proj", Linear(E, c.mlp_hidden));
    up_proj = mlp->register_module("up_proj", Linear(E, c.mlp_hidden));
    down_proj = mlp->register_module("down_proj", Linear(c.mlp_hidden, E));
  } else {
    fc1 = mlp->register_module("fc1", Linear(E, c.mlp_hidden));
    fc2 = mlp->register_module("fc2", Linear(c.mlp_hidden, E));
  }
}

torch::Tensor Qwen2VisionBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& angles,
                                            const torch::Tensor& allowed) {
  const int64_t S = x.size(0), H = c_.num_heads, d = c_.head_dim();
  auto n1 = [&](const torch::Tensor& t) { return c_.rms_norm ? rms1(t) : norm1(t); };
  auto n2 = [&](const torch::Tensor& t) { return c_.rms_norm ? rms2(t) : norm2(t); };
  auto parts = qkv(n1(x)).view({S, 3, H, d}).unbind(1);  // q, k, v: (S, H, d)
  auto q = rotate(parts[0], angles).transpose(0, 1).unsqueeze(0);  // (1, H, S, d)
  auto k = rotate(parts[1], angles).transpose(0, 1).unsqueeze(0);
  auto v = parts[2].transpose(0, 1).unsqueeze(0);
  auto a = attention(q, k, v, allowed.unsqueeze(0), 1.0 / std::sqrt(static_cast<double>(d)));  // (1, H, S, d)
  auto h = x + proj(a.squeeze(0).transpose(0, 1).reshape({S, H * d}));
  auto m = n2(h);
  if (c_.gated_mlp) return h + down_proj(activation(c_.hidden_act, gate_proj(m)) * up_proj(m));
  return h + fc2(activation(c_.hidden_act, fc1(m)));
}

WindowOrder window_order(const std::vector<GridThw>& grids, int64_t merge_size, int64_t window_units) {
  WindowOrder out;
  int64_t first_unit = 0, first_window = 0;
  for (const auto& [t, h, w] : grids) {
    const int64_t uh = h / merge_size, uw = w / merge_size;
    const int64_t wh = (uh + window_units - 1) / window_units, ww = (uw + window_units - 1) / window_units;
    for (int64_t f = 0; f < t; ++f) {
      for (int64_t a = 0; a < wh; ++a) {
        for (int64_t b = 0; b < ww; ++b) {
          for (int64_t r = a * window_units; r < std::min(uh, (a + 1) * window_units); ++r) {
            for (int64_t c = b * window_units; c < std::min(uw, (b + 1) * window_units); ++c) {
              out.unit_order.push_back(first_unit + (f * uh + r) * uw + c);
              out.window.push_back(first_window + (f * wh + a) * ww + b);
            }
          }
        }
      }
    }
    first_unit += t * uh * uw;
    first_window += t * wh * ww;
  }
  return out;
}

Qwen2VisionTowerImpl::Qwen2VisionTowerImpl(const Qwen2VisionConfig& c) : c_(c) {
  auto patch_embed = register_module("patch_embed", std::make_shared<torch::nn::Module>());
  auto proj = patch_embed->register_module("proj", std::make_shared<torch::nn::Module>());
  patch_weight = proj->register_parameter(
      "weight", torch::randn({c.embed_dim, c.in_channels, c.temporal_patch_size, c.patch_size, c.patch_size}) /
                    std::sqrt(static_cast<double>(c.patch_dim())));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.depth; ++i) blocks->push_back(Qwen2VisionBlock(c));
}

torch::Tensor Qwen2VisionTowerImpl::forward(const torch::Tensor& patches, const std::vector<GridThw>& grids,
                                            std::vector<torch::Tensor>* states) {
  int64_t S = 0;
  for (const auto& g : grids) S += g[0] * g[1] * g[2];
  SEER_CHECK(patches.dim() == 2 && patches.size(0) == S && patches.size(1) == c_.patch_dim(),
             "vision tower: patches {} for image grids of {} patches x {} values",
             fmt::format("{}", fmt::join(patches.sizes(), "x")), S, c_.patch_dim());
  // Conv3d with kernel = stride = the patch is a product with the flattened kernel (same (C, Tp, P, P) order).
  auto x = linear(patches.to(patch_weight.scalar_type()), patch_weight.reshape({c_.embed_dim, -1}), at::Tensor());  // (S, E)
  if (states != nullptr) states->push_back(x);
  auto angles = vision_rotary_angles(grids, c_.head_dim(), c_.spatial_merge_size, c_.rope_theta).to(x.device());
  auto full = frame_block_mask(grids, x.options());
  if (c_.window_size <= 0) {
    for (size_t i = 0; i < blocks->size(); ++i) {
      x = blocks[i]->as<Qwen2VisionBlockImpl>()->forward(x, angles, full);
      if (states != nullptr) states->push_back(x);
    }
    return x;
  }
  // Windowed blocks: merge units regrouped window by window; the frame mask follows the same order.
  const int64_t U = c_.spatial_merge_size * c_.spatial_merge_size;
  const WindowOrder order = window_order(grids, c_.spatial_merge_size, c_.window_size / c_.spatial_merge_size / c_.patch_size);
  auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  auto units = torch::tensor(order.unit_order, i64).to(x.device());
  auto patch_order = (units.unsqueeze(1) * U + torch::arange(U, i64).to(x.device())).flatten();  // (S)
  auto back = torch::argsort(patch_order);
  auto window = torch::tensor(order.window, i64).repeat_interleave(U).to(x.device());
  auto windowed = window.unsqueeze(0) == window.unsqueeze(1);
  auto full_w = full.index_select(0, patch_order).index_select(1, patch_order);
  x = x.index_select(0, patch_order);
  angles = angles.index_select(0, patch_order);
  const auto& fa = c_.fullatt_block_indexes;
  for (size_t i = 0; i < blocks->size(); ++i) {
    const bool is_full = std::find(fa.begin(), fa.end(), static_cast<int64_t>(i)) != fa.end();
    x = blocks[i]->as<Qwen2VisionBlockImpl>()->forward(x, angles, is_full ? full_w : windowed);
    if (states != nullptr) states->push_back(x.index_select(0, back));
  }
  return x.index_select(0, back);
}

}  // namespace seer::model
