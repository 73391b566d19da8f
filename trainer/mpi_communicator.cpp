#include <mpi.h>

#include <cstdlib>

#include <ATen/ATen.h>

#include "core/check.h"
#include "trainer/communicator.h"

namespace seer::trainer {
namespace {

#define SEER_MPI_CHECK(call)                                                                     \
  do {                                                                                           \
    const int rc_ = (call);                                                                      \
    if (rc_ != MPI_SUCCESS) {                                                                    \
      char msg_[MPI_MAX_ERROR_STRING];                                                           \
      int len_ = 0;                                                                              \
      MPI_Error_string(rc_, msg_, &len_);                                                        \
      SEER_FAIL("MPI communicator: {} failed: {}", #call, std::string(msg_, static_cast<size_t>(len_))); \
    }                                                                                            \
  } while (0)

MPI_Datatype mpi_type(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kLong: return MPI_INT64_T;
    case at::kInt: return MPI_INT32_T;
    case at::kByte: return MPI_UINT8_T;
    default: SEER_FAIL("MPI communicator does not support dtype {}", c10::toString(t.scalar_type()));
  }
}

void finalize_mpi() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      SEER_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
      std::atexit(finalize_mpi);
    }
    SEER_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
    SEER_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world_));
  }
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  std::string name() const override { return "mpi"; }

  void all_reduce_sum(at::Tensor& tensor) override {
    at::Tensor host = tensor.is_cuda() ? tensor.to(at::kCPU) : tensor;
    SEER_CHECK(host.is_contiguous(), "MPI communicator: all_reduce_sum needs a contiguous tensor");
    SEER_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, host.data_ptr(), static_cast<int>(host.numel()), mpi_type(host), MPI_SUM,
                                 MPI_COMM_WORLD));
    if (tensor.is_cuda()) tensor.copy_(host);
  }

  void broadcast(at::Tensor& tensor, int root) override {
    at::Tensor host = tensor.is_cuda() ? tensor.to(at::kCPU) : tensor;
    SEER_CHECK(host.is_contiguous(), "MPI communicator: broadcast needs a contiguous tensor");
    SEER_MPI_CHECK(MPI_Bcast(host.data_ptr(), static_cast<int>(host.numel()), mpi_type(host), root, MPI_COMM_WORLD));
    if (tensor.is_cuda()) tensor.copy_(host);
  }

  void all_gather(const at::Tensor& input, at::Tensor& output) override {
    check_gather_shapes("MPI communicator: all_gather", input, output, world_);
    at::Tensor in = input.is_cuda() ? input.to(at::kCPU) : input;
    at::Tensor out = output.is_cuda() ? output.to(at::kCPU) : output;
    SEER_MPI_CHECK(MPI_Allgather(in.data_ptr(), static_cast<int>(in.numel()), mpi_type(in), out.data_ptr(),
                                 static_cast<int>(in.numel()), mpi_type(out), MPI_COMM_WORLD));
    if (output.is_cuda()) output.copy_(out);
  }

  void reduce_scatter_sum(const at::Tensor& input, at::Tensor& output) override {
    check_gather_shapes("MPI communicator: reduce_scatter_sum", output, input, world_);
    at::Tensor in = input.is_cuda() ? input.to(at::kCPU) : input;
    at::Tensor out = output.is_cuda() ? output.to(at::kCPU) : output;
    SEER_MPI_CHECK(MPI_Reduce_scatter_block(in.data_ptr(), out.data_ptr(), static_cast<int>(out.numel()),
                                            mpi_type(out), MPI_SUM, MPI_COMM_WORLD));
    if (output.is_cuda()) output.copy_(out);
  }

  void barrier() override { SEER_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD)); }

 private:
  int rank_ = 0, world_ = 1;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<MpiCommunicator>(); }

}  // namespace seer::trainer
