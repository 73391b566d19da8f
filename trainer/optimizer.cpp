#include "trainer/optimizer.h"

#include <torch/optim/adamw.h>

#include <sstream>
#include <type_traits>

#include "core/check.h"
#include "trainer/sharded_optimizer.h"

namespace seer::trainer {
namespace {

/// The optimizer's state key for a parameter: LibTorch 1.x keys by the TensorImpl address as a string
/// (c10::guts::to_string, i.e. ostream <<), 2.x by the address itself.
template <class Map>
typename Map::key_type state_key(const Map&, const at::Tensor& p) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream out;
    out << static_cast<const void*>(p.unsafeGetTensorImpl());
    return out.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

std::string shape_of(const at::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

}  // namespace

struct AdamW::Impl {
  std::unique_ptr<torch::optim::AdamW> opt;
};

AdamW::AdamW(std::map<std::string, at::Tensor> params, const AdamWOptions& options)
    : impl_(std::make_unique<Impl>()), options_(options), params_(std::move(params)) {
  // Group 0: base LR; group i+1: the i-th prefix. Empty groups are left out (LibTorch refuses them).
  std::vector<std::string> prefixes;
  std::vector<double> scales{1.0};
  for (const auto& [prefix, scale] : options.lr_scale_by_prefix) {
    prefixes.push_back(prefix);
    scales.push_back(scale);
  }
  std::vector<std::vector<at::Tensor>> lists(scales.size());
  for (const auto& [name, p] : params_) {
    size_t group = 0, best = 0;
    for (size_t i = 0; i < prefixes.size(); ++i) {
      if (name.rfind(prefixes[i], 0) == 0 && prefixes[i].size() > best) {
        group = i + 1;
        best = prefixes[i].size();
      }
    }
    lists[group].push_back(p);
  }
  torch::optim::AdamWOptions o(options.lr);
  o.betas(std::make_tuple(options.beta1, options.beta2)).eps(options.eps).weight_decay(options.weight_decay);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (size_t g = 0; g < lists.size(); ++g) {
    if (lists[g].empty()) continue;
    auto go = std::make_unique<torch::optim::AdamWOptions>(o);
    go->lr(options.lr * scales[g]);
    groups.emplace_back(lists[g], std::move(go));
    group_scale_.push_back(scales[g]);
  }
  if (groups.empty()) {  // no trainable parameters: keep one (empty) group so lr() has an answer
    groups.emplace_back(std::vector<at::Tensor>{}, std::make_unique<torch::optim::AdamWOptions>(o));
    group_scale_.push_back(1.0);
  }
  impl_->opt = std::make_unique<torch::optim::AdamW>(std::move(groups), o);
  base_lr_ = options.lr;
}

AdamW::~AdamW() = default;

void AdamW::set_lr(double lr) {
  auto& groups = impl_->opt->param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    static_cast<torch::optim::AdamWOptions&>(groups[g].options()).lr(lr * group_scale_[g]);
  }
  base_lr_ = lr;
  if (sharded_) sharded_->set_lr(lr);
}

void AdamW::shard_across(Communicator& comm) {
  AdamWOptions o = options_;
  o.lr = base_lr_;
  sharded_ = std::make_unique<ShardedAdamW>(params_, o, comm);
}

void AdamW::collect_state() {
  if (sharded_) gathered_ = sharded_->state();
}

int64_t AdamW::steps() const { return sharded_ ? sharded_->steps() : steps_; }

double AdamW::lr() const { return base_lr_; }

void AdamW::step() {
  SEER_CHECK(!sharded_, "AdamW::step on a sharded optimizer (use apply_gradients)");
  impl_->opt->step();
  ++steps_;
}

void AdamW::zero_grad() {
  for (auto& [name, p] : params_) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
}

std::map<std::string, at::Tensor> AdamW::state() const {
  if (sharded_) return gathered_;
  std::map<std::string, at::Tensor> out;
  auto& states = impl_->opt->state();
  for (const auto& [name, p] : params_) {
    auto it = states.find(state_key(states, p));
    if (it == states.end()) continue;
    const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
    out["exp_avg/" + name] = s.exp_avg();
    out["exp_avg_sq/" + name] = s.exp_avg_sq();
    out["step/" + name] = at::scalar_tensor(static_cast<int64_t>(s.step()), at::kLong);
  }
  return out;
}

void AdamW::load_state(const std::map<std::string, at::Tensor>& state, int64_t steps) {
  if (sharded_) {
    sharded_->load_state(state, steps);
    return;
  }
  auto& states = impl_->opt->state();
  states.clear();
  for (const auto& [key, t] : state) {
    const size_t slash = key.find('/');
    SEER_CHECK(slash != std::string::npos, "optimizer state: unexpected tensor '{}'", key);
    const std::string name = key.substr(slash + 1);
    SEER_CHECK(params_.count(name), "optimizer state: '{}' is not a trainable parameter of this model", key);
  }
  for (const auto& [name, p] : params_) {
    auto avg = state.find("exp_avg/" + name);
    if (avg == state.end()) continue;
    auto sq = state.find("exp_avg_sq/" + name);
    auto st = state.find("step/" + name);
    SEER_CHECK(sq != state.end() && st != state.end(), "optimizer state of '{}' is incomplete", name);
    SEER_CHECK(avg->second.sizes() == p.sizes() && sq->second.sizes() == p.sizes(),
               "optimizer state of '{}': shape {} does not match the parameter's {}", name, shape_of(avg->second),
               shape_of(p));
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->exp_avg(avg->second.to(p.options()).clone());
    s->exp_avg_sq(sq->second.to(p.options()).clone());
    s->step(st->second.item<int64_t>());
    states[state_key(states, p)] = std::move(s);
  }
  steps_ = steps;
}

}  // namespace seer::trainer
