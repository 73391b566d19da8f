#include "dataset/image_path.h"

#include <filesystem>

#include "core/check.h"

namespace seer::dataset {

std::string resolve_image_path(const std::string& root, const std::string& relative) {
  namespace fs = std::filesystem;
  SEER_CHECK(!relative.empty(), "empty image path");
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(fs::path(root), ec);
  SEER_CHECK(!ec, "image root '{}': {}", root, ec.message());
  const fs::path rel(relative);
  const fs::path joined = rel.is_absolute() ? rel : base / rel;
  const fs::path resolved = fs::weakly_canonical(joined, ec);  // follows symlinks of the parts that exist
  SEER_CHECK(!ec, "image '{}': {}", relative, ec.message());
  // Inside the root means: the root's components are a prefix of the resolved path's.
  auto r = resolved.begin();
  for (auto b = base.begin(); b != base.end(); ++b, ++r) {
    if (b->empty()) continue;  // trailing separator
    SEER_CHECK(r != resolved.end() && *r == *b, "image '{}' resolves to '{}', outside the image root '{}'", relative,
               resolved.string(), base.string());
  }
  return resolved.string();
}

}  // namespace seer::dataset
