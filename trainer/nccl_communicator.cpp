// NCCL for CUDA tensors (CUDA builds only): one communicator per rank over the rank's current CUDA device,
// its unique id made by rank 0 and broadcast over MPI (MPI_COMM_WORLD: the ranks mpirun or srun started).
// Every collective runs on a side stream of its own: it waits for the work already queued on the caller's
// stream (an event), and the caller's stream waits for it in turn, so later kernels see the result while
// the host never blocks; the caching allocator is told the tensors are in use on the side stream. Host
// (CPU) tensors are refused: this backend is for GPU learners (MPI serves the CPU ones).
#include <mpi.h>
#include <nccl.h>

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>

#include "core/check.h"
#include "trainer/communicator.h"

namespace seer::trainer {
namespace {

#define SEER_NCCL_CHECK(call)                                                                          \
  do {                                                                                                 \
    const ncclResult_t rc_ = (call);                                                                   \
    if (rc_ != ncclSuccess) SEER_FAIL("NCCL communicator: {} failed: {}", #call, ncclGetErrorString(rc_)); \
  } while (0)

ncclDataType_t nccl_type(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return ncclFloat32;
    case at::kDouble: return ncclFloat64;
    case at::kBFloat16: return ncclBfloat16;
    case at::kHalf: return ncclFloat16;
    case at::kLong: return ncclInt64;
    case at::kInt: return ncclInt32;
    case at::kByte: return ncclUint8;
    default: SEER_FAIL("NCCL communicator does not support dtype {}", c10::toString(t.scalar_type()));
  }
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      SEER_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) == MPI_SUCCESS,
                 "NCCL communicator: MPI_Init_thread failed (the unique id travels over MPI)");
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &world_);
    SEER_CHECK(cudaGetDevice(&device_) == cudaSuccess, "NCCL communicator: no current CUDA device on rank {}", rank_);
    ncclUniqueId id;
    if (rank_ == 0) SEER_NCCL_CHECK(ncclGetUniqueId(&id));
    SEER_CHECK(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD) == MPI_SUCCESS,
               "NCCL communicator: MPI_Bcast of the NCCL unique id failed");
    SEER_NCCL_CHECK(ncclCommInitRank(&comm_, world_, id, rank_));
    side_ = c10::cuda::getStreamFromPool(/*isHighPriority=*/true, static_cast<c10::DeviceIndex>(device_));
  }
  ~NcclCommunicator() override {
    if (comm_ != nullptr) ncclCommDestroy(comm_);
  }
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  std::string name() const override { return "nccl"; }

  void all_reduce_sum(at::Tensor& tensor) override {
    check(tensor, "all_reduce_sum");
    on_side_stream({tensor}, [&](cudaStream_t s) {
      SEER_NCCL_CHECK(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()),
                                    nccl_type(tensor), ncclSum, comm_, s));
    });
  }

  void broadcast(at::Tensor& tensor, int root) override {
    check(tensor, "broadcast");
    on_side_stream({tensor}, [&](cudaStream_t s) {
      SEER_NCCL_CHECK(ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()),
                                    nccl_type(tensor), root, comm_, s));
    });
  }

  void all_gather(const at::Tensor& input, at::Tensor& output) override {
    check(input, "all_gather");
    check(output, "all_gather");
    check_gather_shapes("NCCL communicator: all_gather", input, output, world_);
    on_side_stream({input, output}, [&](cudaStream_t s) {
      SEER_NCCL_CHECK(ncclAllGather(input.data_ptr(), output.data_ptr(), static_cast<size_t>(input.numel()),
                                    nccl_type(input), comm_, s));
    });
  }

  void reduce_scatter_sum(const at::Tensor& input, at::Tensor& output) override {
    check(input, "reduce_scatter_sum");
    check(output, "reduce_scatter_sum");
    check_gather_shapes("NCCL communicator: reduce_scatter_sum", output, input, world_);
    on_side_stream({input, output}, [&](cudaStream_t s) {
      SEER_NCCL_CHECK(ncclReduceScatter(input.data_ptr(), output.data_ptr(), static_cast<size_t>(output.numel()),
                                        nccl_type(output), ncclSum, comm_, s));
    });
  }

  void barrier() override {
    // A one-element all-reduce, then wait for it: every rank has reached this point.
    auto token = at::zeros({1}, at::TensorOptions().dtype(at::kFloat).device(at::kCUDA, device_));
    all_reduce_sum(token);
    c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device_)).synchronize();
  }

 private:
  void check(const at::Tensor& t, const char* what) const {
    SEER_CHECK(t.is_cuda() && t.get_device() == device_ && t.is_contiguous(),
               "NCCL communicator: {} needs a contiguous tensor on cuda:{} (rank {}), got {} on {}", what, device_,
               rank_, t.is_contiguous() ? "a contiguous tensor" : "a strided tensor", t.device().str());
  }

  /// Runs `launch` on the side stream, ordered after the caller's queued work and before its later work.
  template <class Launch>
  void on_side_stream(std::initializer_list<at::Tensor> tensors, Launch launch) {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
    const c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device_));
    at::cuda::CUDAEvent ready;
    ready.record(current);
    ready.block(side_);
    for (const at::Tensor& t : tensors) {
      c10::cuda::CUDACachingAllocator::recordStream(t.storage().data_ptr(), side_);
    }
    launch(side_.stream());
    at::cuda::CUDAEvent done;
    done.record(side_);
    done.block(current);
  }

  int rank_ = 0, world_ = 1, device_ = 0;
  ncclComm_t comm_ = nullptr;
  c10::cuda::CUDAStream side_ = c10::cuda::getDefaultCUDAStream();
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(int device) {
  SEER_CHECK(cudaSetDevice(device) == cudaSuccess, "NCCL communicator: cannot use CUDA device {}", device);
  return std::make_unique<NcclCommunicator>();
}

}  // namespace seer::trainer
