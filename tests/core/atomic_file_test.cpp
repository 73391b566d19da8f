#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "core/atomic_file.h"
#include "core/check.h"

namespace seer {
namespace {

namespace fs = std::filesystem;

class AtomicFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seer_atomic_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(AtomicFile, WritesCreatingFoldersAndReplaces) {
  const std::string path = (dir_ / "a" / "b.txt").string();
  write_file_atomic(path, "first");
  EXPECT_EQ(read_file(path), "first");
  write_file_atomic(path, std::string("second\0bytes", 12));
  EXPECT_EQ(read_file(path), std::string("second\0bytes", 12));
  // No temp files are left behind.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "a")) entries += e.is_regular_file();
  EXPECT_EQ(entries, 1);
}

TEST_F(AtomicFile, FailureKeepsOldFileAndNamesPath) {
  const std::string path = (dir_ / "keep.txt").string();
  write_file_atomic(path, "old");
  fs::create_directories(dir_ / "blocker");
  // Renaming a file over a non-empty folder fails: the error names the target, the old content stays.
  fs::create_directories(dir_ / "blocker" / "x");
  try {
    write_file_atomic((dir_ / "blocker").string(), "new");
    FAIL() << "expected seer::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find((dir_ / "blocker").string()), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file(path), "old");
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);  // the temp file was removed
}

TEST_F(AtomicFile, ReadMissingFileNamesIt) {
  try {
    read_file((dir_ / "missing.bin").string());
    FAIL() << "expected seer::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.bin"), std::string::npos);
  }
}

}  // namespace
}  // namespace seer
