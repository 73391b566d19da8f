#include "trainer/trajectory_buffer.h"

namespace seer::trainer {

bool TrajectoryBuffer::push(BufferedGroup group) {
  if (dynamic_sampling_ && rewards_all_equal(group.group)) {
    ++counts_.dropped_equal_rewards;
    return false;
  }
  groups_.push_back(std::move(group));
  return true;
}

std::optional<std::vector<Group>> TrajectoryBuffer::take(int64_t count, int64_t current_version,
                                                         std::vector<std::string>* dropped_stale) {
  std::deque<BufferedGroup> fresh;
  for (auto& g : groups_) {
    if (current_version - g.weight_version > max_staleness_) {
      ++counts_.dropped_stale;
      if (dropped_stale) dropped_stale->push_back(g.group.prompt_id);
    } else {
      fresh.push_back(std::move(g));
    }
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
