#include "model/linear.h"

#include <atomic>
#include <chrono>

#include <torch/torch.h>

#include "core/check.h"

namespace seer::model {
namespace {

std::atomic<MatmulBackend> g_backend{MatmulBackend::kBlas};
std::atomic<at::ScalarType> g_dtype{at::kFloat};
std::atomic<bool> g_split_few_rows{false};

constexpr int64_t kFewRows = 32;                ///< at most this many rows take the split path
constexpr int64_t kSplitProductSize = 1 << 19;  ///< rows x output chunk x in per BLAS call

/// y = x w^T + b for a few rows without autograd, as BLAS calls on chunks of w's output features small enough
/// (rows x chunk x in <= 2^19) for OpenBLAS's small-matrix kernels, which read the weight in place. The plain
/// call packs the whole weight first, which for a decode step of a few rows costs more than the product
/// (measured on this project's machine: 1408 x 512 weight, 4 rows, one thread, 328 -> 106 us).
at::Tensor linear_few_rows(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  const int64_t in = x.size(-1), out = w.size(0);
  const at::Tensor x2 = x.reshape({-1, in}).contiguous();
  const int64_t rows = x2.size(0);
  const int64_t chunk = std::max<int64_t>(16, kSplitProductSize / std::max<int64_t>(1, rows * in));
  if (chunk >= out) return at::linear(x, w, b);
  at::Tensor yt = at::empty({out, rows}, x.options());  // y^T: each chunk's rows are contiguous
  const at::Tensor xt = x2.t();
  for (int64_t a = 0; a < out; a += chunk) {
    const int64_t n = std::min(chunk, out - a);
    at::Tensor part = yt.narrow(0, a, n);
    at::mm_out(part, w.narrow(0, a, n), xt);
  }
  at::Tensor y = b.defined() ? yt.t() + b : yt.t().contiguous();
  auto sizes = x.sizes().vec();
  sizes.back() = out;
  return y.view(sizes);
}

/// (rows, in) x (out, in)^T through oneDNN: a dense float32 result.
at::Tensor dnnl_mm_t(const at::Tensor& a, const at::Tensor& w) {
  return at::mkldnn_linear(a.contiguous().to_mkldnn(), w.contiguous(), {}).to_dense();
}

/// x (N, in) @ w^T with forward and backward through oneDNN (the bias is added outside, by autograd).
struct OneDnnLinear : public torch::autograd::Function<OneDnnLinear> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w) {
    ctx->save_for_backward({x, w});
    return dnnl_mm_t(x, w);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& w = saved[1];
    const at::Tensor dy = grads[0].contiguous();
    at::Tensor dx = dnnl_mm_t(dy, w.t());     // dY (N, out) @ W (out, in)
    at::Tensor dw = dnnl_mm_t(dy.t(), x.t());  // dY^T (out, N) @ X (N, in)
    return {dx, dw};
  }
};

at::Tensor linear_onednn(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  auto sizes = x.sizes().vec();
  const int64_t in = sizes.back();
  at::Tensor y = OneDnnLinear::apply(x.reshape({-1, in}), w);
  if (b.defined()) y = y + b;
  sizes.back() = w.size(0);
  return y.view(sizes);
}

}  // namespace

void set_matmul_backend(MatmulBackend backend) { g_backend = backend; }
MatmulBackend matmul_backend() { return g_backend; }
void set_compute_dtype(at::ScalarType dtype) {
  SEER_CHECK(dtype == at::kFloat || dtype == at::kBFloat16, "compute dtype must be float32 or bfloat16");
  g_dtype = dtype;
}
at::ScalarType compute_dtype() { return g_dtype; }

MatmulBackend parse_matmul_backend(const std::string& name) {
  if (name == "blas") return MatmulBackend::kBlas;
  if (name == "onednn") {
    SEER_CHECK(at::hasMKLDNN(), "compute.matmul: onednn, but this LibTorch was built without oneDNN (use blas)");
    return MatmulBackend::kOneDnn;
  }
  SEER_FAIL("compute.matmul: unknown backend '{}' (blas, onednn, or auto)", name);
}

std::string to_string(MatmulBackend backend) { return backend == MatmulBackend::kOneDnn ? "onednn" : "blas"; }

at::ScalarType parse_compute_dtype(const std::string& name) {
  if (name == "float32") return at::kFloat;
  if (name == "bfloat16") return at::kBFloat16;
  SEER_FAIL("compute dtype '{}' is not float32 or bfloat16", name);
}

MatmulBackend measure_fastest_backend(int64_t features, int64_t rows, bool backward) {
  if (!at::hasMKLDNN()) return MatmulBackend::kBlas;
  torch::NoGradGuard outer_no_grad;  // measured below with explicit autograd on leaf copies
  auto x = torch::randn({rows, features}), w = torch::randn({features, features}) * 0.02;
  auto time = [&](MatmulBackend backend) {
    const MatmulBackend saved = g_backend;
    g_backend = backend;
    double best = 1e30;
    for (int rep = 0; rep < (backward ? 5 : 50); ++rep) {
      if (!backward) {  // a decode step: the product alone
        const auto t0 = std::chrono::steady_clock::now();
        (void)model::linear(x, w, at::Tensor());
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        continue;
      }
      torch::AutoGradMode grad(true);
      auto xr = x.clone().requires_grad_(true), wr = w.clone().requires_grad_(true);
      const auto t0 = std::chrono::steady_clock::now();
      model::linear(xr, wr, at::Tensor()).sum().backward();
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    g_backend = saved;
    return best;
  };
  time(MatmulBackend::kBlas);  // warm-up of both paths
  time(MatmulBackend::kOneDnn);
  return time(MatmulBackend::kOneDnn) < 0.9 * time(MatmulBackend::kBlas) ? MatmulBackend::kOneDnn : MatmulBackend::kBlas;
}

void set_split_few_rows(bool on) { g_split_few_rows = on; }
bool split_few_rows() { return g_split_few_rows; }

double measure_few_rows_split(int64_t features, int64_t rows) {
  torch::NoGradGuard no_grad;
  auto x = torch::randn({rows, features}), w = torch::randn({3 * features, features}) * 0.02;
  auto time = [&](bool split) {
    double best = 1e30;
    for (int rep = 0; rep < 20; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      (void)(split ? linear_few_rows(x, w, at::Tensor()) : at::linear(x, w));
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
  };
  time(false);  // warm-up of both paths
  time(true);
  return time(false) / time(true);
}

namespace {
thread_local WeightCastCache* t_cast_cache = nullptr;
}  // namespace

WeightCastCache::WeightCastCache() : previous_(t_cast_cache) { t_cast_cache = this; }
WeightCastCache::~WeightCastCache() { t_cast_cache = previous_; }

at::Tensor WeightCastCache::cast(const at::Tensor& t, at::ScalarType dtype) {
  if (t_cast_cache == nullptr || t.scalar_type() == dtype || (at::GradMode::is_enabled() && t.requires_grad())) {
    return t.to(dtype);
  }
  auto [it, fresh] = t_cast_cache->casts_.try_emplace(t.unsafeGetTensorImpl());
  Entry& e = it->second;
  if (fresh || e.version != t._version() || e.cast.scalar_type() != dtype || e.cast.sizes() != t.sizes()) {
    e = Entry{t, t.to(dtype), t._version()};
  }
  return e.cast;
}

at::Tensor WeightCastCache::stacked(const std::vector<at::Tensor>& parts, at::ScalarType dtype) {
  if (t_cast_cache == nullptr || parts.empty() || at::GradMode::is_enabled()) return {};
  auto [it, fresh] = t_cast_cache->stacks_.try_emplace(parts[0].unsafeGetTensorImpl());
  Stack& s = it->second;
  bool same = !fresh && s.sources.size() == parts.size() && s.stacked.scalar_type() == dtype;
  for (size_t i = 0; same && i < parts.size(); ++i) {
    same = s.sources[i].is_same(parts[i]) && s.versions[i] == parts[i]._version();
  }
  if (!same) {
    s.sources = parts;
    s.versions.clear();
    for (const auto& p : parts) s.versions.push_back(p._version());
    s.stacked = at::cat(parts, 0).to(dtype);
  }
  return s.stacked;
}

at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  const at::ScalarType dtype = g_dtype;
  if (dtype != x.scalar_type() && x.scalar_type() == at::kFloat) {
    // bf16 product, float32 result (autocast semantics): casts are differentiable, master weights stay fp32
    const at::Tensor y = at::linear(x.to(dtype), WeightCastCache::cast(w, dtype),
                                    b.defined() ? WeightCastCache::cast(b, dtype) : at::Tensor());
    return y.to(x.scalar_type());
  }
  if (g_backend == MatmulBackend::kOneDnn && x.scalar_type() == at::kFloat && x.device().is_cpu() &&
      w.scalar_type() == at::kFloat) {
    return linear_onednn(x, w, b);
  }
  if (g_split_few_rows && x.scalar_type() == at::kFloat && w.scalar_type() == at::kFloat && x.device().is_cpu() &&
      x.dim() >= 1 && x.numel() / std::max<int64_t>(1, x.size(-1)) <= kFewRows &&
      !(at::GradMode::is_enabled() && (x.requires_grad() || w.requires_grad()))) {
    return linear_few_rows(x, w, b);
  }
  return at::linear(x, w, b.defined() ? b : at::Tensor());
}

LinearImpl::LinearImpl(int64_t in_features, int64_t out_features, bool bias)
    : in_(in_features), out_(out_features), has_bias_(bias) {
  reset();
}

void LinearImpl::reset() {
  // Same initialisation as torch::nn::Linear (kaiming uniform a=sqrt(5), bias U(-1/sqrt(in), 1/sqrt(in))).
  weight = register_parameter("weight", torch::empty({out_, in_}));
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (has_bias_) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_));
    bias = register_parameter("bias", torch::empty({out_}).uniform_(-bound, bound));
  } else {
    bias = register_parameter("bias", {}, /*requires_grad=*/false);
  }
}

namespace {
thread_local bool t_adapters_off = false;
}  // namespace

AdaptersOff::AdaptersOff() : previous_(t_adapters_off) { t_adapters_off = true; }
AdaptersOff::~AdaptersOff() { t_adapters_off = previous_; }
bool adapters_enabled() { return !t_adapters_off; }

at::Tensor LinearImpl::forward(const at::Tensor& x) {
  at::Tensor y = model::linear(x, weight, bias);
  if (lora_A == nullptr || t_adapters_off) return y;
  const at::Tensor in = lora_dropout > 0 ? torch::dropout(x, lora_dropout, is_training()) : x;
  return y + lora_B->forward(lora_A->forward(in)) * lora_scaling;
}

void LinearImpl::add_lora(int64_t rank, double alpha, double dropout) {
  SEER_CHECK(lora_A == nullptr, "this linear layer already has a LoRA adapter");
  SEER_CHECK(rank >= 1, "LoRA rank must be at least 1, got {}", rank);
  const auto options = weight.options();
  lora_A = register_module("lora_A", std::make_shared<LinearImpl>(in_, rank, false));
  lora_B = register_module("lora_B", std::make_shared<LinearImpl>(rank, out_, false));
  {
    torch::NoGradGuard no_grad;
    lora_A->weight.set_data(lora_A->weight.to(options.dtype()).to(options.device()));  // kaiming uniform a=sqrt(5)
    lora_B->weight.set_data(torch::zeros({out_, rank}, options));
  }
  lora_scaling = alpha / static_cast<double>(rank);
  lora_dropout = dropout;
}

void LinearImpl::merge_lora() {
  SEER_CHECK(lora_A != nullptr, "merge_lora: this linear layer has no LoRA adapter");
  {
    torch::NoGradGuard no_grad;
    const at::Tensor delta = at::matmul(lora_B->weight.to(at::kDouble), lora_A->weight.to(at::kDouble)) * lora_scaling;
    weight.copy_((weight.to(at::kDouble) + delta).to(weight.scalar_type()));
  }
  unregister_module("lora_A");
  unregister_module("lora_B");
  lora_A.reset();
  lora_B.reset();
  lora_scaling = 0.0;
}

}  // namespace seer::model
