// The order in which the learner visits dataset rows: a permutation per epoch from (seed, epoch)
// (or the file order when shuffle is off), and a cursor. The (epoch, cursor) pair is all a checkpoint
// needs to continue with exactly the rows an uninterrupted run would have seen.
#pragma once

#include <cstdint>
#include <vector>

namespace seer::trainer {

class DataOrder {
 public:
  /// Throws seer::Error when `rows` is 0.
  DataOrder(int64_t rows, uint64_t seed, bool shuffle, int64_t epoch = 0, int64_t cursor = 0);
  /// The next `count` row indices, crossing into the next epoch (new permutation) when one ends.
  std::vector<int64_t> next(int64_t count);
  int64_t epoch() const { return epoch_; }
  int64_t cursor() const { return cursor_; }

 private:
  void permute();
  int64_t rows_;
  uint64_t seed_;
  bool shuffle_;
  int64_t epoch_, cursor_;
  std::vector<int64_t> order_;
};

}  // namespace seer::trainer
