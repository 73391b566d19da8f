// Counting autograd nodes by name in a graph, for tests that check what the graph holds (recompute nodes of
// activation checkpointing and of chunked log-probs).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <torch/csrc/autograd/function.h>

namespace seer::model {

/// Autograd nodes reachable from `root` whose name contains `part` (each node counted once).
/// (grad_fn() is a shared_ptr in LibTorch 1.13 and an intrusive_ptr in 2.x: pass the raw node.)
inline int64_t count_nodes(torch::autograd::Node* root, const std::string& part) {
  std::set<torch::autograd::Node*> seen;
  std::vector<torch::autograd::Node*> stack = {root};
  int64_t n = 0;
  while (!stack.empty()) {
    auto* node = stack.back();
    stack.pop_back();
    if (node == nullptr || !seen.insert(node).second) continue;
    if (node->name().find(part) != std::string::npos) ++n;
    for (const auto& e : node->next_edges()) stack.push_back(e.function.get());
  }
  return n;
}

}  // namespace seer::model
