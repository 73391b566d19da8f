#include "trainer/data_order.h"

#include <numeric>
#include <random>

#include "core/check.h"

namespace seer::trainer {

DataOrder::DataOrder(int64_t rows, uint64_t seed, bool shuffle, int64_t epoch, int64_t cursor)
    : rows_(rows), seed_(seed), shuffle_(shuffle), epoch_(epoch), cursor_(cursor) {
  SEER_CHECK(rows > 0, "the training data has no rows");
  SEER_CHECK(cursor >= 0 && cursor <= rows, "data cursor {} outside the {} rows (a checkpoint from other data?)", cursor,
             rows);
  permute();
}

void DataOrder::permute() {
  order_.resize(static_cast<size_t>(rows_));
  std::iota(order_.begin(), order_.end(), 0);
  if (!shuffle_) return;
  // Fisher-Yates with a 64-bit Mersenne Twister and explicit modulo draws, so the order depends on nothing
  // but (seed, epoch) - not on the standard library's shuffle or distribution implementation.
  std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch_) + 1);
  for (size_t i = order_.size() - 1; i > 0; --i) {
    const size_t j = static_cast<size_t>(rng() % (i + 1));
    std::swap(order_[i], order_[j]);
  }
}

std::vector<int64_t> DataOrder::next(int64_t count) {
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(count));
  while (static_cast<int64_t>(out.size()) < count) {
    if (cursor_ == rows_) {
      ++epoch_;
      cursor_ = 0;
      permute();
    }
    out.push_back(order_[static_cast<size_t>(cursor_++)]);
  }
  return out;
}

}  // namespace seer::trainer
