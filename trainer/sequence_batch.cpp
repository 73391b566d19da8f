#include "trainer/sequence_batch.h"

#include <algorithm>
#include <map>
#include <numeric>

#include <ATen/ATen.h>

#include "core/check.h"

namespace seer::trainer {

MicroBatch collate(const std::vector<Sequence>& sequences, size_t begin, size_t end,
                   const std::vector<at::Tensor>& image_features, int64_t pad_id) {
  SEER_CHECK(begin < end && end <= sequences.size(), "collate: bad range [{}, {}) of {}", begin, end, sequences.size());
  size_t T = 0;
  for (size_t i = begin; i < end; ++i) {
    const Sequence& s = sequences[i];
    SEER_CHECK(s.ids.size() == s.target.size(), "sequence {}: {} ids but {} target flags", i, s.ids.size(), s.target.size());
    T = std::max(T, s.ids.size());
  }
  const int64_t B = static_cast<int64_t>(end - begin);
  MicroBatch mb;
  mb.ids = at::full({B, static_cast<int64_t>(T)}, pad_id, at::kLong);
  mb.attention = at::zeros({B, static_cast<int64_t>(T)}, at::kBool);
  mb.target = at::zeros({B, static_cast<int64_t>(T)}, at::kBool);
  auto ids = mb.ids.accessor<int64_t, 2>();
  auto att = mb.attention.accessor<bool, 2>();
  auto tgt = mb.target.accessor<bool, 2>();
  std::vector<at::Tensor> images;
  for (int64_t b = 0; b < B; ++b) {
    const Sequence& s = sequences[begin + static_cast<size_t>(b)];
    for (size_t t = 0; t < s.ids.size(); ++t) {
      ids[b][static_cast<int64_t>(t)] = s.ids[t];
      att[b][static_cast<int64_t>(t)] = true;
      tgt[b][static_cast<int64_t>(t)] = s.target[t] != 0 && t > 0;
      mb.tokens += s.target[t] != 0 && t > 0;
    }
    for (int64_t image : s.images) {
      SEER_CHECK(image >= 0 && static_cast<size_t>(image) < image_features.size(), "sequence {}: image {} of {}",
                 begin + static_cast<size_t>(b), image, image_features.size());
      const at::Tensor& feats = image_features[static_cast<size_t>(image)];
      // undefined: the caller runs the vision tower itself; rows flattened, as images may differ in size
      if (feats.defined()) images.push_back(feats.reshape({-1, feats.size(-1)}));
    }
  }
  if (!images.empty()) mb.images = at::cat(images, 0);
  return mb;
}

std::vector<size_t> length_order(const std::vector<Sequence>& sequences, size_t begin, size_t end) {
  SEER_CHECK(begin <= end && end <= sequences.size(), "length_order: bad range [{}, {}) of {}", begin, end,
             sequences.size());
  std::vector<size_t> order(end - begin);
  std::iota(order.begin(), order.end(), begin);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sequences[a].ids.size() > sequences[b].ids.size(); });
  return order;
}

std::vector<size_t> group_length_order(const std::vector<Sequence>& sequences, const std::vector<int64_t>& group,
                                       size_t begin, size_t end) {
  SEER_CHECK(group.size() == sequences.size(), "group_length_order: {} group ids for {} sequences", group.size(),
             sequences.size());
  std::vector<size_t> order = length_order(sequences, begin, end);
  std::map<int64_t, size_t> longest;  // group -> its longest sequence's length
  for (size_t i = begin; i < end; ++i) longest[group[i]] = std::max(longest[group[i]], sequences[i].ids.size());
  std::map<int64_t, size_t> first;    // group -> its first position in `order` (ties between groups: input order)
  for (size_t k = 0; k < order.size(); ++k) first.emplace(group[order[k]], k);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const int64_t ga = group[a], gb = group[b];
    if (ga == gb) return false;  // stable: length order inside the group
    if (longest[ga] != longest[gb]) return longest[ga] > longest[gb];
    return first[ga] < first[gb];
  });
  return order;
}

int64_t count_targets(const std::vector<Sequence>& sequences) {
  int64_t n = 0;
  for (const auto& s : sequences) {
    for (size_t t = 1; t < s.target.size(); ++t) n += s.target[t] != 0;
  }
  return n;
}

}  // namespace seer::trainer
