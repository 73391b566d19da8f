// make_nccl_communicator in a build without NCCL (Debian's CPU LibTorch): a clear refusal.
#include "core/check.h"
#include "trainer/communicator.h"

namespace seer::trainer {

std::unique_ptr<Communicator> make_nccl_communicator(int /*device*/) {
  SEER_FAIL("this seer was built without NCCL (the GPU build: `make build-cuda`)");
}

}  // namespace seer::trainer
