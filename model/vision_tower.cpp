#include "model/vision_tower.h"

#include <cmath>

namespace seer::model {

VisionEncoderLayerImpl::VisionEncoderLayerImpl(const VisionConfig& c) : c_(c) {
  const int64_t D = c.hidden_size;
  auto ln = [&] { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({D}).eps(c.layer_norm_eps)); };
  layer_norm1 = register_module("layer_norm1", ln());
  layer_norm2 = register_module("layer_norm2", ln());
  auto attn = register_module("self_attn", std::make_shared<torch::nn::Module>());
  q_proj = attn->register_module("q_proj", Linear(D, D));
  k_proj = attn->register_module("k_proj", Linear(D, D));
  v_proj = attn->register_module("v_proj", Linear(D, D));
  out_proj = attn->register_module("out_proj", Linear(D, D));
  auto mlp = register_module("mlp", std::make_shared<torch::nn::Module>());
  fc1 = mlp->register_module("fc1", Linear(D, c.intermediate_size));
  fc2 = mlp->register_module("fc2", Linear(c.intermediate_size, D));
}

torch::Tensor VisionEncoderLayerImpl::forward(const torch::Tensor& x) {
  const int64_t B = x.size(0), T = x.size(1), H = c_.num_attention_heads, d = c_.hidden_size / H;
  auto h = layer_norm1(x);
  auto split = [&](const torch::Tensor& t) { return t.view({B, T, H, d}).transpose(1, 2); };  // (B, H, T, d)
  auto a = attention(split(q_proj(h)), split(k_proj(h)), split(v_proj(h)), {}, 1.0 / std::sqrt(static_cast<double>(d)));
  h = x + out_proj(a.transpose(1, 2).reshape({B, T, H * d}));
  return h + fc2(activation(c_.hidden_act, fc1(layer_norm2(h))));
}

VisionTransformerImpl::VisionTransformerImpl(const VisionConfig& c) : c_(c) {
  const int64_t D = c.hidden_size;
  auto embeddings = register_module("embeddings", std::make_shared<torch::nn::Module>());
  if (c.class_token()) class_embedding = embeddings->register_parameter("class_embedding", torch::zeros({D}));
  patch_embedding = embeddings->register_module(
      "patch_embedding", torch::nn::Conv2d(torch::nn::Conv2dOptions(c.num_channels, D, c.patch_size)
                                               .stride(c.patch_size)
                                               .bias(!c.class_token())));  // CLIP: no bias; SigLIP: bias
  const int64_t positions = c.num_patches() + (c.class_token() ? 1 : 0);
  position_embedding = embeddings->register_module("position_embedding", torch::nn::Embedding(positions, D));
  auto ln = [&] { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({D}).eps(c.layer_norm_eps)); };
  if (c.class_token()) pre_layrnorm = register_module("pre_layrnorm", ln());  // sic: the HF name
  auto encoder = register_module("encoder", std::make_shared<torch::nn::Module>());
  layers = encoder->register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers->push_back(VisionEncoderLayer(c));
  post_layernorm = register_module("post_layernorm", ln());
}

std::vector<torch::Tensor> VisionTransformerImpl::hidden_states(const torch::Tensor& pixel_values, int64_t upto) {
  const int64_t B = pixel_values.size(0);
  auto x = patch_embedding(pixel_values.to(patch_embedding->weight.scalar_type()))  // (B, D, h, w)
               .flatten(2)
               .transpose(1, 2);                                                    // (B, P, D)
  // The 1-D/2-D parameters broadcast without a view of their own: their backward then always sums into a
  // fresh tensor. Through view/unsqueeze with B = 1 LibTorch 1.13 handed class_embedding and
  // position_embedding gradients that were views of one shared buffer, and AccumulateGrad kept them as .grad:
  // later micro-batches then accumulated into both at once (2-3x gradients; tests/model/vision_grad_test.cpp).
  if (c_.class_token()) x = torch::cat({class_embedding.expand({B, 1, class_embedding.size(0)}), x}, 1);
  x = x + position_embedding->weight;
  if (pre_layrnorm) x = pre_layrnorm(x);
  std::vector<torch::Tensor> states{x};
  for (int64_t i = 0; i < upto && i < static_cast<int64_t>(layers->size()); ++i) {
    x = layers[i]->as<VisionEncoderLayerImpl>()->forward(x);
    states.push_back(x);
  }
  return states;
}

torch::Tensor VisionTransformerImpl::last_hidden_state(const torch::Tensor& encoder_output) {
  return c_.class_token() ? encoder_output : post_layernorm(encoder_output);
}

}  // namespace seer::model
