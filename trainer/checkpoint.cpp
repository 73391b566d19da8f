#include "trainer/checkpoint.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <zlib.h>

#include "core/atomic_file.h"
#include "core/check.h"
#include "model/safetensors.h"
#include "model/vlm.h"
#include "trainer/optimizer.h"

namespace seer::trainer {
namespace {

namespace fs = std::filesystem;

/// Fault injection for tests/chaos (a slow or stalled filesystem): SEER_FAILPOINT_CHECKPOINT="STEP:SECONDS"
/// holds the checkpoint of STEP for SECONDS after its files are written, before it is renamed into place.
void checkpoint_failpoint(int64_t step) {
  const char* v = std::getenv("SEER_FAILPOINT_CHECKPOINT");
  long long at = -1;
  double seconds = 0;
  if (v == nullptr || std::sscanf(v, "%lld:%lf", &at, &seconds) != 2 || at != step || seconds <= 0) return;
  spdlog::warn("failpoint SEER_FAILPOINT_CHECKPOINT: holding the checkpoint of step {} for {} s before it is renamed "
               "into place", step, seconds);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

constexpr const char* kModelFiles[] = {"tokenizer.json", "tokenizer_config.json", "preprocessor_config.json",
                                       "special_tokens_map.json", "chat_template.json"};

std::string step_name(int64_t step) { return fmt::format("step-{:08d}", step); }

/// CRC-32 (zlib) and size of a file, read in 1 MiB blocks.
std::pair<uint64_t, uint32_t> crc_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  SEER_CHECK(in, "{}: cannot read", path.string());
  std::vector<char> buf(1 << 20);
  uLong crc = crc32(0L, Z_NULL, 0);
  uint64_t bytes = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = in.gcount();
    if (n <= 0) break;
    crc = crc32(crc, reinterpret_cast<const Bytef*>(buf.data()), static_cast<uInt>(n));
    bytes += static_cast<uint64_t>(n);
  }
  return {bytes, static_cast<uint32_t>(crc)};
}

void fsync_dir(const fs::path& dir) {
  if (FILE* f = std::fopen(dir.c_str(), "r")) {
    (void)fsync(fileno(f));
    std::fclose(f);
  }
}

std::string hex_encode(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string hex_decode(const std::string& hex, const std::string& where) {
  SEER_CHECK(hex.size() % 2 == 0, "{}: rng_state is not hex", where);
  std::string out(hex.size() / 2, '\0');
  auto val = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    SEER_FAIL("{}: rng_state is not hex", where);
  };
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(val(hex[2 * i]) * 16 + val(hex[2 * i + 1]));
  return out;
}

}  // namespace

std::vector<std::string> list_checkpoints(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind("step-", 0) == 0 && name.size() == 13) out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::map<std::string, std::string> read_model_side_files(const std::string& model_dir) {
  std::map<std::string, std::string> out;
  for (const char* name : kModelFiles) {
    const fs::path src = fs::path(model_dir) / name;
    if (fs::exists(src)) out[name] = read_file(src.string());
  }
  return out;
}

std::string save_checkpoint(const std::string& root, const model::Vlm& model,
                            const std::map<std::string, std::string>& side_files, const AdamW& optimizer,
                            const TrainerState& state, const std::string& config_yaml, int64_t keep_last) {
  const fs::path final_dir = fs::path(root) / step_name(state.step);
  const fs::path tmp = fs::path(root) / (".tmp-" + step_name(state.step));
  std::error_code ec;
  fs::create_directories(root, ec);
  SEER_CHECK(!ec, "{}: cannot create the checkpoint folder: {}", root, ec.message());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp / "model");

  model.save_pretrained((tmp / "model").string());
  for (const auto& [name, content] : side_files) write_file_atomic((tmp / "model" / name).string(), content);
  model::write_safetensors((tmp / "optimizer.safetensors").string(), optimizer.state(),
                           {{"format", "pt"}, {"optimizer", "adamw"}, {"steps", std::to_string(optimizer.steps())}});
  nlohmann::json js = {{"step", state.step},     {"weight_version", state.weight_version},
                       {"epoch", state.epoch},   {"cursor", state.cursor},
                       {"seed", state.seed},     {"optimizer_steps", optimizer.steps()},
                       {"rng_state", hex_encode(state.rng_state)}, {"matmul", state.matmul}, {"threads", state.threads},
                       {"done_prompts", state.done_prompts}};
  write_file_atomic((tmp / "trainer_state.json").string(), js.dump(2) + "\n");
  write_file_atomic((tmp / "config.yaml").string(), config_yaml);

  nlohmann::json manifest = {{"step", state.step}, {"files", nlohmann::json::object()}};
  for (const auto& entry : fs::recursive_directory_iterator(tmp)) {
    if (!entry.is_regular_file()) continue;
    const auto [bytes, crc] = crc_of(entry.path());
    manifest["files"][fs::relative(entry.path(), tmp).string()] = {{"bytes", bytes}, {"crc32", fmt::format("{:08x}", crc)}};
  }
  write_file_atomic((tmp / "manifest.json").string(), manifest.dump(2) + "\n");
  fsync_dir(tmp);
  checkpoint_failpoint(state.step);

  fs::remove_all(final_dir, ec);
  fs::rename(tmp, final_dir, ec);
  SEER_CHECK(!ec, "{}: cannot rename the finished checkpoint into place: {}", final_dir.string(), ec.message());
  fsync_dir(root);
  write_file_atomic((fs::path(root) / "latest").string(), step_name(state.step) + "\n");

  if (keep_last > 0) {
    auto all = list_checkpoints(root);
    for (size_t i = 0; i + static_cast<size_t>(keep_last) < all.size(); ++i) {
      if (fs::path(all[i]) != final_dir) fs::remove_all(all[i], ec);
    }
  }
  return final_dir.string();
}

std::string verify_checkpoint(const std::string& dir) {
  const fs::path manifest_path = fs::path(dir) / "manifest.json";
  if (!fs::exists(manifest_path)) return "no manifest.json (the checkpoint was not finished)";
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(read_file(manifest_path.string()));
  } catch (const std::exception& e) {
    return fmt::format("manifest.json is unreadable: {}", e.what());
  }
  if (!manifest.contains("files") || !manifest["files"].is_object()) return "manifest.json has no \"files\"";
  for (const auto& [name, entry] : manifest["files"].items()) {
    const fs::path path = fs::path(dir) / name;
    if (!fs::exists(path)) return fmt::format("{}: missing", name);
    try {
      const auto [bytes, crc] = crc_of(path);
      const uint64_t want_bytes = entry.at("bytes").get<uint64_t>();
      if (bytes != want_bytes) return fmt::format("{}: {} bytes, manifest says {}", name, bytes, want_bytes);
      const std::string got = fmt::format("{:08x}", crc);
      if (got != entry.at("crc32").get<std::string>())
        return fmt::format("{}: CRC-32 {} differs from the manifest's {}", name, got, entry.at("crc32").get<std::string>());
    } catch (const std::exception& e) {
      return fmt::format("{}: {}", name, e.what());
    }
  }
  return "";
}

std::optional<std::string> find_resumable_checkpoint(const std::string& root) {
  auto all = list_checkpoints(root);
  std::string latest;
  try {
    const fs::path latest_path = fs::path(root) / "latest";
    if (fs::exists(latest_path)) {
      latest = read_file(latest_path.string());
      while (!latest.empty() && (latest.back() == '\n' || latest.back() == ' ')) latest.pop_back();
    }
  } catch (const Error&) {
  }
  // Try `latest` first, then every other checkpoint, newest first.
  std::vector<std::string> order;
  if (!latest.empty()) order.push_back((fs::path(root) / latest).string());
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (*it != (order.empty() ? "" : order.front())) order.push_back(*it);
  }
  for (const auto& dir : order) {
    if (!fs::is_directory(dir)) {
      spdlog::warn("checkpoint {} named by {}/latest does not exist; looking for an older one", dir, root);
      continue;
    }
    const std::string problem = verify_checkpoint(dir);
    if (problem.empty()) return dir;
    spdlog::warn("checkpoint {} is corrupt ({}); falling back to the previous one", dir, problem);
  }
  return std::nullopt;
}

TrainerState read_trainer_state(const std::string& dir) {
  const std::string path = (fs::path(dir) / "trainer_state.json").string();
  TrainerState s;
  try {
    const auto j = nlohmann::json::parse(read_file(path));
    s.step = j.at("step").get<int64_t>();
    s.weight_version = j.at("weight_version").get<int64_t>();
    s.epoch = j.at("epoch").get<int64_t>();
    s.cursor = j.at("cursor").get<int64_t>();
    s.seed = j.at("seed").get<uint64_t>();
    s.rng_state = hex_decode(j.at("rng_state").get<std::string>(), path);
    s.matmul = j.value("matmul", std::string());
    s.threads = j.value("threads", int64_t{0});
    s.done_prompts = j.value("done_prompts", std::vector<std::string>());
  } catch (const nlohmann::json::exception& e) {
    SEER_FAIL("{}: {}", path, e.what());
  }
  return s;
}

void load_optimizer_state(const std::string& dir, AdamW& optimizer) {
  const std::string path = (fs::path(dir) / "optimizer.safetensors").string();
  model::SafetensorsFile file(path);
  std::map<std::string, at::Tensor> state;
  for (const auto& [name, entry] : file.entries()) state[name] = file.tensor(name);
  int64_t steps = 0;
  auto it = file.metadata().find("steps");
  if (it != file.metadata().end()) steps = std::stoll(it->second);
  try {
    optimizer.load_state(state, steps);
  } catch (const Error& e) {
    SEER_FAIL("{}: {}", path, e.what());
  }
}

}  // namespace seer::trainer
