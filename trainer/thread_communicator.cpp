// Ranks as threads of one process (tests), and the single-rank communicator.
#include <condition_variable>
#include <mutex>

#include <ATen/ATen.h>

#include "core/check.h"
#include "trainer/communicator.h"

namespace seer::trainer {
namespace {

/// Rendezvous of `world` threads: every rank deposits its tensor; the last to arrive computes the
/// result; all copy it out before any can start the next collective (which needs every rank again).
struct Rendezvous {
  explicit Rendezvous(int world) : world(world), slots(static_cast<size_t>(world)) {}
  int world;
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  uint64_t generation = 0;
  std::vector<at::Tensor> slots;
  at::Tensor result;

  template <class Combine>
  at::Tensor run(int rank, const at::Tensor& mine, Combine combine) {
    std::unique_lock<std::mutex> lock(mu);
    const uint64_t gen = generation;
    slots[static_cast<size_t>(rank)] = mine;
    if (++arrived == world) {
      result = combine(slots);
      arrived = 0;
      ++generation;
      cv.notify_all();
    } else {
      cv.wait(lock, [&] { return generation != gen; });
    }
    return result;
  }
};

class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(std::shared_ptr<Rendezvous> r, int rank) : r_(std::move(r)), rank_(rank) {}
  int rank() const override { return rank_; }
  int world_size() const override { return r_->world; }
  std::string name() const override { return "threads"; }
  void all_reduce_sum(at::Tensor& tensor) override {
    auto sum = r_->run(rank_, tensor, [](const std::vector<at::Tensor>& s) {
      at::Tensor acc = s[0].clone();
      for (size_t i = 1; i < s.size(); ++i) acc.add_(s[i]);
      return acc;
    });
    tensor.copy_(sum);
  }
  void broadcast(at::Tensor& tensor, int root) override {
    auto value = r_->run(rank_, tensor, [root](const std::vector<at::Tensor>& s) { return s[static_cast<size_t>(root)].clone(); });
    tensor.copy_(value);
  }
  void all_gather(const at::Tensor& input, at::Tensor& output) override {
    check_gather_shapes("thread communicator: all_gather", input, output, r_->world);
    auto all = r_->run(rank_, input, [](const std::vector<at::Tensor>& s) {
      std::vector<at::Tensor> flat;
      for (const auto& t : s) flat.push_back(t.reshape({-1}));
      return at::cat(flat);
    });
    output.view({-1}).copy_(all);
  }
  void reduce_scatter_sum(const at::Tensor& input, at::Tensor& output) override {
    check_gather_shapes("thread communicator: reduce_scatter_sum", output, input, r_->world);
    auto sum = r_->run(rank_, input, [](const std::vector<at::Tensor>& s) {
      at::Tensor acc = s[0].reshape({-1}).clone();
      for (size_t i = 1; i < s.size(); ++i) acc.add_(s[i].reshape({-1}));
      return acc;
    });
    output.view({-1}).copy_(sum.narrow(0, rank_ * output.numel(), output.numel()));
  }
  void barrier() override {
    r_->run(rank_, at::Tensor(), [](const std::vector<at::Tensor>&) { return at::Tensor(); });
  }

 private:
  std::shared_ptr<Rendezvous> r_;
  int rank_;
};

class SingleCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  std::string name() const override { return "single"; }
  void all_reduce_sum(at::Tensor&) override {}
  void broadcast(at::Tensor&, int root) override { SEER_CHECK(root == 0, "single communicator: no rank {}", root); }
  void all_gather(const at::Tensor& input, at::Tensor& output) override {
    check_gather_shapes("single communicator: all_gather", input, output, 1);
    output.view({-1}).copy_(input.reshape({-1}));
  }
  void reduce_scatter_sum(const at::Tensor& input, at::Tensor& output) override {
    check_gather_shapes("single communicator: reduce_scatter_sum", output, input, 1);
    output.view({-1}).copy_(input.reshape({-1}));
  }
  void barrier() override {}
};

}  // namespace

void check_gather_shapes(const char* backend, const at::Tensor& small, const at::Tensor& large, int world) {
  SEER_CHECK(small.defined() && large.defined() && small.is_contiguous() && large.is_contiguous(),
             "{}: needs defined, contiguous tensors", backend);
  SEER_CHECK(large.numel() == small.numel() * world && small.scalar_type() == large.scalar_type(),
             "{}: {} elements ({}) per rank need {} in all for {} ranks, got {} ({})", backend, small.numel(),
             c10::toString(small.scalar_type()), small.numel() * world, world, large.numel(),
             c10::toString(large.scalar_type()));
}

std::vector<std::unique_ptr<Communicator>> make_thread_communicators(int world) {
  SEER_CHECK(world >= 1, "thread communicators: world size must be >= 1, got {}", world);
  auto r = std::make_shared<Rendezvous>(world);
  std::vector<std::unique_ptr<Communicator>> out;
  for (int i = 0; i < world; ++i) out.push_back(std::make_unique<ThreadCommunicator>(r, i));
  return out;
}

std::unique_ptr<Communicator> make_single_communicator() { return std::make_unique<SingleCommunicator>(); }

}  // namespace seer::trainer
