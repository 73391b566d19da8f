// Reading optional keys of Hugging Face JSON files (config.json, preprocessor_config.json) with errors that
// name the file and the key.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/check.h"

namespace seer {

/// j[key] as T, or `fallback` when the key is absent or null. Throws seer::Error naming `where` and the key
/// when the value has the wrong type.
template <class T>
T json_get_or(const nlohmann::json& j, const char* key, T fallback, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  try {
    return j[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    SEER_FAIL("{}: '{}' has the wrong type ({})", where, key, j[key].dump());
  }
}

}  // namespace seer
