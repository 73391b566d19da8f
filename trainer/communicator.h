// The seam between the learner and its collectives (style: c10d Backend). One implementation per file:
// MPI for CPU tensors (trainer/mpi_communicator.cpp), threads in one process for tests
// (trainer/thread_communicator.cpp), a single-rank one, and NCCL for CUDA tensors
// (trainer/nccl_communicator.cpp, CUDA builds). All are collective: every rank must make the same calls in the
// same order, whatever its data.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace seer::trainer {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual std::string name() const = 0;
  /// Sums `tensor` across ranks, in place. Contiguous float32/float64 tensors; a CUDA tensor goes through
  /// host memory on backends without device support. Throws seer::Error naming the backend on failure.
  virtual void all_reduce_sum(at::Tensor& tensor) = 0;
  /// Copies `tensor` from `root` to every rank, in place (same shape and dtype on every rank).
  virtual void broadcast(at::Tensor& tensor, int root) = 0;
  /// Every rank's `input` (n elements, contiguous, same dtype everywhere) into `output` (world·n elements,
  /// contiguous), in rank order: MPI_Allgather / ncclAllGather.
  virtual void all_gather(const at::Tensor& input, at::Tensor& output) = 0;
  /// `input` (world·n elements, contiguous) summed across ranks; rank r receives elements [r·n, (r+1)·n) into
  /// `output` (n elements): MPI_Reduce_scatter_block / ncclReduceScatter.
  virtual void reduce_scatter_sum(const at::Tensor& input, at::Tensor& output) = 0;
  virtual void barrier() = 0;
};

/// World of one: collectives are no-ops.
std::unique_ptr<Communicator> make_single_communicator();

/// MPI_COMM_WORLD (MPI_Init_thread on first use, finalised at exit). Throws seer::Error when MPI fails.
std::unique_ptr<Communicator> make_mpi_communicator();

/// NCCL over CUDA device `device` (made current on this thread), the unique id exchanged over MPI (one rank per
/// GPU; trainer/rank_device.h). Throws seer::Error when this build has no NCCL or NCCL fails.
std::unique_ptr<Communicator> make_nccl_communicator(int device);

/// CUDA tensors go to `device` (NCCL), host tensors to `host` (MPI), which must outlive the result; ranks and
/// world size must agree (seer::Error otherwise). barrier() is the host's.
std::unique_ptr<Communicator> make_routed_communicator(Communicator& host, std::unique_ptr<Communicator> device);

/// Checks the shapes of an all_gather / reduce_scatter_sum call (`world` ranks). Throws seer::Error naming
/// `backend` and both sizes.
void check_gather_shapes(const char* backend, const at::Tensor& small, const at::Tensor& large, int world);

/// `world` communicators for ranks run as threads of this process (tests). Each must be used from its own thread.
std::vector<std::unique_ptr<Communicator>> make_thread_communicators(int world);

}  // namespace seer::trainer
