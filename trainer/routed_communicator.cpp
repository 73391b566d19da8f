// A learner on GPUs needs two transports: NCCL for the CUDA tensors (gradients, parameter shards) and MPI for
// the small host tensors of control (stop flags, resume step, device names, batches). This communicator sends
// each call to the one that matches its tensor's device.
#include "core/check.h"
#include "trainer/communicator.h"

namespace seer::trainer {
namespace {

class RoutedCommunicator final : public Communicator {
 public:
  RoutedCommunicator(Communicator& host, std::unique_ptr<Communicator> device) : host_(host), device_(std::move(device)) {
    SEER_CHECK(device_->world_size() == host_.world_size() && device_->rank() == host_.rank(),
               "{} rank {}/{} does not match {} rank {}/{}", device_->name(), device_->rank(), device_->world_size(),
               host_.name(), host_.rank(), host_.world_size());
  }
  int rank() const override { return host_.rank(); }
  int world_size() const override { return host_.world_size(); }
  std::string name() const override { return device_->name() + "+" + host_.name(); }
  void all_reduce_sum(at::Tensor& tensor) override { pick(tensor).all_reduce_sum(tensor); }
  void broadcast(at::Tensor& tensor, int root) override { pick(tensor).broadcast(tensor, root); }
  void all_gather(const at::Tensor& input, at::Tensor& output) override { pick(input).all_gather(input, output); }
  void reduce_scatter_sum(const at::Tensor& input, at::Tensor& output) override {
    pick(input).reduce_scatter_sum(input, output);
  }
  void barrier() override { host_.barrier(); }

 private:
  Communicator& pick(const at::Tensor& t) { return t.is_cuda() ? *device_ : host_; }
  Communicator& host_;
  std::unique_ptr<Communicator> device_;
};

}  // namespace

std::unique_ptr<Communicator> make_routed_communicator(Communicator& host, std::unique_ptr<Communicator> device) {
  return std::make_unique<RoutedCommunicator>(host, std::move(device));
}

}  // namespace seer::trainer
