#include "dataset/task_writer.h"

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <stb_image_write.h>

#include "core/atomic_file.h"
#include "core/check.h"

namespace seer::dataset {

uint64_t next_random(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void write_png(const std::string& path, const Image& image) {
  std::string bytes;
  auto sink = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  const int ok = stbi_write_png_to_func(sink, &bytes, image.width, image.height, image.channels, image.pixels.data(),
                                        image.width * image.channels);
  SEER_CHECK(ok != 0, "{}: PNG encoding failed", path);
  write_file_atomic(path, bytes);
}

SplitWriter::SplitWriter(std::string dir, std::string task, std::string split)
    : dir_(std::move(dir)), task_(std::move(task)), split_(std::move(split)),
      progress_("writing " + dir_ + " " + split_, 0, "images") {
  std::filesystem::create_directories(std::filesystem::path(dir_) / "images" / split_);
}

void SplitWriter::add(const Example& e) {
  char name[96];
  std::snprintf(name, sizeof(name), "%s-%s-%06d", task_.c_str(), split_.c_str(), count_);
  const std::string image = "images/" + split_ + "/" + name + ".png";
  write_png((std::filesystem::path(dir_) / image).string(), e.image);
  progress_.add();
  nlohmann::ordered_json rl = {{"id", name},
                               {"image", image},
                               {"problem", e.question},
                               {"solution", e.answer},
                               {"answer_type", e.answer_type}};
  if (!e.source.empty()) rl["source"] = e.source;
  rl_ += rl.dump() + "\n";
  const nlohmann::ordered_json sft = {
      {"id", name},
      {"image", image},
      {"conversations",
       {{{"from", "human"}, {"value", "<image>\n" + e.question}},
        {{"from", "gpt"}, {"value", "<think>" + e.reasoning + "</think><answer>" + e.answer + "</answer>"}}}}};
  sft_ += sft.dump() + "\n";
  ++count_;
}

void SplitWriter::finish() {
  progress_.finish();
  write_file_atomic((std::filesystem::path(dir_) / (split_ + ".jsonl")).string(), rl_);
  write_file_atomic((std::filesystem::path(dir_) / ("sft_" + split_ + ".jsonl")).string(), sft_);
}

}  // namespace seer::dataset
