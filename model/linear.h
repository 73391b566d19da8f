// The linear layer every seer model uses, with a process-wide choice of how its matmuls run on CPU:
//   BLAS    at::linear (LibTorch -> libblas.so.3, OpenBLAS after scripts/install-deps.sh)
//   oneDNN  at::mkldnn_linear inside LibTorch, forward and backward (a custom autograd function: the
//           mkldnn tensors themselves have no autograd); float32 only
// and a compute dtype: with bfloat16, inputs and weights are cast to bf16 for the product and the result
// back to the input's dtype, so float32 master weights get float32 gradients (what torch.autocast does for
// linear layers). Parameters keep their Hugging Face names (weight, bias).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace seer::model {

enum class MatmulBackend { kBlas, kOneDnn };

/// Sets how every seer Linear computes in this process (default BLAS, float32). Call before threads start.
void set_matmul_backend(MatmulBackend backend);
MatmulBackend matmul_backend();
/// at::kFloat or at::kBFloat16.
void set_compute_dtype(at::ScalarType dtype);
at::ScalarType compute_dtype();

/// "blas" | "onednn" (throws seer::Error otherwise, and for onednn when LibTorch has no oneDNN).
MatmulBackend parse_matmul_backend(const std::string& name);
std::string to_string(MatmulBackend backend);
/// "float32" | "bfloat16".
at::ScalarType parse_compute_dtype(const std::string& name);

/// The faster backend for linear layers of width `features`: forward + backward of a (rows x features) @
/// (features x features) product (a learner's work), or with `backward` false the forward alone without autograd
/// (a decode step's few rows: measure with rows = the decode batch); ~50 ms per backend. The two can differ
/// (oneDNN wins the learner's products here, BLAS a decode step's), so each process measures for its own work.
/// BLAS when oneDNN is unavailable.
MatmulBackend measure_fastest_backend(int64_t features, int64_t rows = 256, bool backward = true);

/// Few-row products (a decode step: at most 32 rows, no autograd, float32, BLAS backend) as BLAS calls on chunks of
/// the weight's output features, small enough for OpenBLAS's small-matrix kernels that skip packing the weight.
/// Off by default; apply_compute turns it on when measure_few_rows_split finds it faster on this machine (the
/// small kernels exist for some CPUs only). Changes only rounding (each output is the same dot product).
void set_split_few_rows(bool on);
bool split_few_rows();
/// Speed-up of the split path over one at::linear for a (rows x features) @ (3·features x features)^T product
/// on the current thread count: plain time / split time (> 1 = the split is faster). ~10 ms.
double measure_few_rows_split(int64_t features = 512, int64_t rows = 8);

/// y = x w^T + b through the current backend and dtype. x (..., in), w (out, in), b (out) or undefined.
at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b);

/// While one is alive on this thread, a product in a compute dtype other than its weight's (bf16 from float32
/// master weights) casts each weight and bias once and reuses the cast, when no gradient flows to it: a rollout's
/// decode steps, a reference pass over several micro-batches. Casts are keyed by tensor and its version counter (an
/// in-place update casts again); they are freed with it. Without it every product casts its weight again, which in a
/// decode step of a few rows reads and writes more bytes than the product itself.
class WeightCastCache {
 public:
  WeightCastCache();
  ~WeightCastCache();
  WeightCastCache(const WeightCastCache&) = delete;
  WeightCastCache& operator=(const WeightCastCache&) = delete;
  /// `t` in `dtype`: the cached cast when one is alive on this thread, else a fresh one.
  static at::Tensor cast(const at::Tensor& t, at::ScalarType dtype);
  /// The rows of `parts` (weights (out_i, in) or biases (out_i)) stacked in `dtype`, made once while a cache is
  /// alive on this thread and no gradient flows (one product instead of one per part: q/k/v, gate/up in a decode
  /// step); undefined without a cache or under autograd. Re-made when a part changes in place.
  static at::Tensor stacked(const std::vector<at::Tensor>& parts, at::ScalarType dtype);
  /// Stacked tensors this cache holds (tests).
  size_t stacks() const { return stacks_.size(); }

 private:
  WeightCastCache* previous_;
  struct Entry {
    at::Tensor source, cast;  ///< the source is held so that its address is not reused while the cache lives
    int64_t version;          ///< source._version() when cast: an in-place change makes a new cast
  };
  std::unordered_map<const void*, Entry> casts_;
  struct Stack {
    std::vector<at::Tensor> sources;
    std::vector<int64_t> versions;
    at::Tensor stacked;
  };
  std::unordered_map<const void*, Stack> stacks_;  ///< by the first part
};

/// While one is alive on this thread, LoRA adapters are skipped: layers compute with their base weights only
/// (PEFT's disable_adapter(); the reference model of a LoRA run is the policy without its adapters).
class AdaptersOff {
 public:
  AdaptersOff();
  ~AdaptersOff();
  AdaptersOff(const AdaptersOff&) = delete;
  AdaptersOff& operator=(const AdaptersOff&) = delete;

 private:
  bool previous_;
};
bool adapters_enabled();

class LinearImpl : public torch::nn::Cloneable<LinearImpl> {
 public:
  LinearImpl(int64_t in_features, int64_t out_features, bool bias = true);
  void reset() override;
  /// x (..., in) -> (..., out): x W^T + b, plus (alpha / r) · dropout(x) A^T B^T with an adapter (unless
  /// AdaptersOff). LoRA eq. 3 (Hu et al. 2021); dropout only in training mode, as PEFT's lora_dropout.
  at::Tensor forward(const at::Tensor& x);
  /// Adds a LoRA adapter: submodules lora_A (weight (rank, in), PEFT's init: kaiming uniform a = sqrt(5)) and
  /// lora_B (weight (out, rank), zeros), so the layer computes what it did before until B is trained. Same
  /// dtype and device as the weight. Throws seer::Error if it already has one or rank < 1.
  void add_lora(int64_t rank, double alpha, double dropout);
  bool has_lora() const { return lora_A != nullptr; }
  /// W += (alpha / r) · B A (computed in float64) and the adapter is removed.
  void merge_lora();
  at::Tensor weight, bias;
  std::shared_ptr<LinearImpl> lora_A, lora_B;
  double lora_scaling = 0.0;
  double lora_dropout = 0.0;

 private:
  int64_t in_, out_;
  bool has_bias_;
};
TORCH_MODULE(Linear);

}  // namespace seer::model
