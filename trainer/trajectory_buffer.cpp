#include "trainer/trajectory_buffer.h"

namespace seer::trainer {

void TrajectoryBuffer::push(BufferedGroup group) {
  if (dynamic_sampling_ && rewards_all_equal(group.group)) {
    ++counts_.dropped_equal_rewards;
    return;
  }
  groups_.push_back(std::move(group));
}

std::optional<std::vector<Group>> TrajectoryBuffer::take(int64_t count, int64_t current_version) {
  while (!groups_.empty() && current_version - groups_.front().weight_version > max_staleness_) {
    groups_.pop_front();
    ++counts_.dropped_stale;
  }
  // Stale groups can sit behind fresh ones only if versions arrive out of order; drop those too.
  std::deque<BufferedGroup> fresh;
  for (auto& g : groups_) {
    if (current_version - g.weight_version > max_staleness_) ++counts_.dropped_stale;
    else fresh.push_back(std::move(g));
  }
  groups_.swap(fresh);
  if (static_cast<int64_t>(groups_.size()) < count) return std::nullopt;
  std::vector<Group> out;
  out.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    out.push_back(std::move(groups_.front().group));
    groups_.pop_front();
  }
  counts_.accepted += count;
  return out;
}

}  // namespace seer::trainer
