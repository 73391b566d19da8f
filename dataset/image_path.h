// Resolving a row's image path inside the image root, refusing any path that escapes it.
#pragma once

#include <string>

namespace seer::dataset {

/// `root`/`relative` made canonical (symlinks resolved). Throws seer::Error when `relative` is empty, or
/// the resolved path (after following symlinks) lies outside the canonical `root` — "..", absolute paths
/// elsewhere and symlinks out are all refused. The file need not exist (checking that is `data check`'s job).
std::string resolve_image_path(const std::string& root, const std::string& relative);

}  // namespace seer::dataset
