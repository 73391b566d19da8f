#include "model/activation_checkpoint.h"

#include <torch/torch.h>

#include "core/check.h"

namespace seer::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

using Block = std::function<torch::Tensor(const torch::Tensor&)>;

// Holds the block until backward (AutogradContext::saved_data stores IValues; a capsule carries any object).
struct SavedBlock : torch::CustomClassHolder {
  explicit SavedBlock(Block b) : block(std::move(b)) {}
  Block block;
};

struct Recompute : torch::autograd::Function<Recompute> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, c10::intrusive_ptr<SavedBlock> saved) {
    ctx->save_for_backward({x});
    torch::Tensor y;
    {
      torch::NoGradGuard no_grad;
      y = saved->block(x);
    }
    ctx->saved_data["block"] = c10::IValue::make_capsule(std::move(saved));
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_output) {
    auto saved = c10::static_intrusive_pointer_cast<SavedBlock>(ctx->saved_data["block"].toCapsule());
    const torch::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    torch::Tensor y;
    {
      torch::AutoGradMode with_grad(true);
      y = saved->block(x);
    }
    SEER_CHECK(y.requires_grad(), "activation checkpoint: the recomputed block does not depend on anything trainable");
    torch::autograd::backward({y}, {grad_output[0]});
    return {x.grad(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor checkpointed(const Block& block, const torch::Tensor& x) {
  if (!torch::GradMode::is_enabled()) return block(x);
  // An input without a gradient (frozen embeddings) would leave the output without a grad_fn and the block's
  // parameters without gradients; a detached leaf that asks for one keeps the graph (its gradient is unused).
  const torch::Tensor input = x.requires_grad() ? x : x.detach().requires_grad_(true);
  return Recompute::apply(input, c10::make_intrusive<SavedBlock>(block));
}

}  // namespace seer::model
