#include "model/linear.h"

#include <atomic>
#include <chrono>

#include <torch/torch.h>

#include "core/check.h"

namespace seer::model {
namespace {

std::atomic<MatmulBackend> g_backend{MatmulBackend::kBlas};
std::atomic<at::ScalarType> g_dtype{at::kFloat};

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

MatmulBackend measure_fastest_backend(int64_t features, int64_t rows) {
  if (!at::hasMKLDNN()) return MatmulBackend::kBlas;
  torch::NoGradGuard outer_no_grad;  // measured below with explicit autograd on leaf copies
  auto x = torch::randn({rows, features}), w = torch::randn({features, features}) * 0.02;
  auto time = [&](MatmulBackend backend) {
    const MatmulBackend saved = g_backend;
    g_backend = backend;
    double best = 1e30;
    for (int rep = 0; rep < 5; ++rep) {
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

at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  const at::ScalarType dtype = g_dtype;
  if (dtype != x.scalar_type() && x.scalar_type() == at::kFloat) {
    // bf16 product, float32 result (autocast semantics): casts are differentiable, master weights stay fp32
    const at::Tensor y = at::linear(x.to(dtype), w.to(dtype), b.defined() ? b.to(dtype) : at::Tensor());
    return y.to(x.scalar_type());
  }
  if (g_backend == MatmulBackend::kOneDnn && x.scalar_type() == at::kFloat && x.device().is_cpu() &&
      w.scalar_type() == at::kFloat) {
    return linear_onednn(x, w, b);
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

at::Tensor LinearImpl::forward(const at::Tensor& x) { return model::linear(x, weight, bias); }

}  // namespace seer::model
