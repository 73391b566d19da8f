#include "trainer/batch_exchange.h"

#include <chrono>
#include <cstring>
#include <thread>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "trainer/coordinator.h"
#include "trainer/group_proto.h"

namespace seer::trainer {
namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

std::string receive_batch(Coordinator* coord, Communicator& comm, int64_t count, int64_t version,
                          const std::atomic<bool>& stop, double& wait_seconds) {
  const auto t0 = Clock::now();
  auto last_report = t0;
  std::string bytes;
  for (;;) {
    bool ready = false;
    if (coord && !stop.load()) {
      if (auto groups = coord->take(count, version, stop, 0.1)) {
        bytes = serialize_step_batch(*groups);
        ready = true;
      } else if (since(last_report) > 15) {
        last_report = Clock::now();
        spdlog::info("waiting {:.0f} s for rollout groups: {}", since(t0), coord->status());
      }
    } else if (!stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // [stop votes, ready, bytes] summed: only rank 0 contributes the last two.
    at::Tensor status = at::zeros({3}, at::kDouble);
    status[0] = stop.load() ? 1.0 : 0.0;
    status[1] = ready ? 1.0 : 0.0;
    status[2] = static_cast<double>(bytes.size());
    comm.all_reduce_sum(status);
    wait_seconds = since(t0);
    // A stop vote first: groups rank 0 took this round are not trained, so they are not done, and a resumed
    // run leases their prompts again.
    if (status[0].item<double>() > 0) return "";
    if (status[1].item<double>() > 0) {
      at::Tensor buf = at::empty({static_cast<int64_t>(status[2].item<double>())}, at::kByte);
      if (coord) std::memcpy(buf.data_ptr(), bytes.data(), bytes.size());
      comm.broadcast(buf, 0);
      return std::string(reinterpret_cast<const char*>(buf.data_ptr()), static_cast<size_t>(buf.numel()));
    }
  }
}

}  // namespace seer::trainer
