#include "core/regular_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

namespace dim::core {
namespace {

class RegularFileTest : public ::testing::Test {
 protected:
  std::filesystem::path dir_ =
      std::filesystem::temp_directory_path() / ("dim-regular-file-" + std::to_string(::getpid()));
  void SetUp() override { std::filesystem::create_directories(dir_); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
};

TEST_F(RegularFileTest, ReadsAFileWhole) {
  std::ofstream(dir_ / "a.txt") << "hello";
  auto text = ReadRegularFile(dir_ / "a.txt", 100);
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_EQ(*text, "hello");
}

TEST_F(RegularFileTest, RefusesAFifoAtOnceInsteadOfWaitingForAWriter) {
  const auto fifo = dir_ / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  auto text = ReadRegularFile(fifo, 100, "pipe");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(text.status().message(), "pipe: not a regular file (a FIFO)");
}

TEST_F(RegularFileTest, NamesADirectoryAMissingFileAndATooLargeOne) {
  EXPECT_EQ(ReadRegularFile(dir_, 100, "d").status().message(),
            "d: not a regular file (a directory)");
  EXPECT_EQ(ReadRegularFile(dir_ / "none", 100, "none").status().code(), StatusCode::kNotFound);
  std::ofstream(dir_ / "big") << std::string(101, 'x');
  EXPECT_EQ(ReadRegularFile(dir_ / "big", 100, "big").status().message(),
            "big: larger than 100 bytes");
}

}  // namespace
}  // namespace dim::core
