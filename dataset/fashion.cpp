// fashion-classify: Fashion-MNIST product photos (IDX format, 28x28 grey), official train/test split.
#include <zlib.h>

#include <filesystem>

#include "core/check.h"
#include "dataset/generators.h"
#include "dataset/task_writer.h"

namespace seer::dataset {
namespace {

// One word per class, in label order (Fashion-MNIST README).
const char* kClasses[10] = {"tshirt", "trouser", "pullover", "dress", "coat",
                            "sandal", "shirt",   "sneaker",  "bag",   "boot"};

std::string read_gz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  SEER_CHECK(f != nullptr, "{}: cannot open (install Debian's dataset-fashion-mnist, or pass --source DIR)", path);
  std::string out;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  const bool error = n < 0;
  gzclose(f);
  SEER_CHECK(!error, "{}: corrupt gzip data", path);
  return out;
}

uint32_t be32(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 24) | (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 8) | static_cast<uint32_t>(static_cast<uint8_t>(s[at + 3]));
}

struct Idx {
  std::string images, labels;
  uint32_t count = 0;
};

Idx read_idx(const std::string& dir, const std::string& prefix) {
  Idx idx;
  const std::string ipath = dir + "/" + prefix + "-images-idx3-ubyte.gz", lpath = dir + "/" + prefix + "-labels-idx1-ubyte.gz";
  idx.images = read_gz(ipath);
  idx.labels = read_gz(lpath);
  SEER_CHECK(idx.images.size() >= 16 && be32(idx.images, 0) == 0x803, "{}: not an IDX image file (magic 0x803)", ipath);
  SEER_CHECK(idx.labels.size() >= 8 && be32(idx.labels, 0) == 0x801, "{}: not an IDX label file (magic 0x801)", lpath);
  idx.count = be32(idx.images, 4);
  SEER_CHECK(be32(idx.images, 8) == 28 && be32(idx.images, 12) == 28, "{}: images must be 28x28", ipath);
  SEER_CHECK(idx.images.size() == 16 + static_cast<size_t>(idx.count) * 784, "{}: {} images declared, file has {} bytes",
             ipath, idx.count, idx.images.size());
  SEER_CHECK(be32(idx.labels, 4) == idx.count && idx.labels.size() == 8 + idx.count, "{}: label count does not match {}",
             lpath, ipath);
  return idx;
}

}  // namespace

void generate_fashion(const GenerateOptions& o) {
  const std::string dir = o.source.empty() ? default_source("fashion-classify") : o.source;
  for (const auto& [split, prefix, fallback] : {std::make_tuple(std::string("train"), std::string("train"), 2000),
                                                std::make_tuple(std::string("test"), std::string("t10k"), 500)}) {
    const Idx idx = read_idx(dir, prefix);
    const int n = std::min<int>(static_cast<int>(idx.count), split == "train" ? (o.train > 0 ? o.train : fallback)
                                                                              : (o.test > 0 ? o.test : fallback));
    // A seeded choice of n distinct images from the split.
    std::vector<int> order(idx.count);
    for (uint32_t i = 0; i < idx.count; ++i) order[i] = static_cast<int>(i);
    uint64_t state = o.seed * 7919ULL + (split == "train" ? 1 : 2);
    for (int i = 0; i < n; ++i) std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(i + random_below(state, static_cast<int>(idx.count) - i))]);
    SplitWriter w(o.out_dir, "fashion-classify", split);
    for (int i = 0; i < n; ++i) {
      const size_t k = static_cast<size_t>(order[static_cast<size_t>(i)]);
      const int label = static_cast<uint8_t>(idx.labels[8 + k]);
      SEER_CHECK(label < 10, "{}: label {} of image {} is not a class", dir, label, k);
      Example e{Image(28, 28, 1, 0), "Which kind of clothing is shown? Answer with one word.", kClasses[label], "text",
                std::string("The outline and texture look like a ") + kClasses[label] + ".",
                dir + ":" + std::to_string(k)};
      std::copy(idx.images.begin() + static_cast<long>(16 + k * 784), idx.images.begin() + static_cast<long>(16 + (k + 1) * 784),
                e.image.pixels.begin());
      w.add(e);
    }
    w.finish();
  }
}

}  // namespace seer::dataset
