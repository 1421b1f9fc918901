// Test-only helpers shared by the unit tests under tests/core (header-only, namespace
// dim::testing). Include it from the source root: #include "tests/core/test_support.h"; the
// test's meson.build passes core_test_inc (tests/core/meson.build) as include_directories.
//
// Contract:
//   - SourceRoot() is $DIM_SOURCE_ROOT, or "." when it is unset. Tests that read the committed
//     examples get DIM_SOURCE_ROOT from their meson.build (env:); ExampleModelsDir() and
//     ExampleDataFile() are paths below it, and ExampleModelExists() is the check a test makes
//     first, so that a missing variable fails with a message saying what to set.
//   - WriteFile() replaces a file's content with the given bytes (binary, no newline added) and
//     returns its path; it expects (EXPECT_TRUE) that the write succeeded.
//   - ScratchDir is a fresh, empty folder under std::filesystem::temp_directory_path(), named
//     after the running test, the process id and a counter (so parallel test binaries, tests
//     and several ScratchDirs in one test do not meet), created by the constructor and removed
//     with everything in it by the destructor.
//   - ScratchDirTest is a fixture base holding one ScratchDir (dir_) per test, with Write().
// Infer-specific helpers (ONNX model builders) live in tests/core/infer/onnx_test_model.h.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace dim::testing {

// The source tree: $DIM_SOURCE_ROOT, else the working directory.
inline std::filesystem::path SourceRoot() {
  const char* root = std::getenv("DIM_SOURCE_ROOT");  // NOLINT(concurrency-mt-unsafe)
  return root != nullptr ? std::filesystem::path(root) : std::filesystem::path(".");
}

// examples/models of the source tree: the committed ONNX models.
inline std::filesystem::path ExampleModelsDir() { return SourceRoot() / "examples" / "models"; }

// examples/data/<name> of the source tree: a committed dataset.
inline std::filesystem::path ExampleDataFile(std::string_view name) {
  return SourceRoot() / "examples" / "data" / name;
}

// Success when examples/models/<name>.onnx is there; otherwise a failure that says to set
// DIM_SOURCE_ROOT. Use as ASSERT_TRUE(ExampleModelExists("heart_mlp")) in SetUp.
inline ::testing::AssertionResult ExampleModelExists(std::string_view name) {
  const std::filesystem::path model = ExampleModelsDir() / (std::string(name) + ".onnx");
  if (std::filesystem::exists(model)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "set DIM_SOURCE_ROOT to the source tree (looked for " << model << ")";
}

// Writes content to path (replacing the file) and returns path.
inline std::filesystem::path WriteFile(const std::filesystem::path& path,
                                       std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  EXPECT_TRUE(out.good()) << "could not write " << path;
  return path;
}

// A fresh folder for one test, removed with its content when this goes out of scope.
class ScratchDir {
 public:
  ScratchDir() : path_(std::filesystem::temp_directory_path() / UniqueName()) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ScratchDir(ScratchDir&&) = delete;
  ScratchDir& operator=(ScratchDir&&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& relative) const {
    return path_ / relative;
  }

  // Writes content to the file `name` in this folder and returns its path.
  std::filesystem::path Write(const std::filesystem::path& name, std::string_view content) const {
    return WriteFile(path_ / name, content);
  }

 private:
  // dim_<suite>_<test>_<pid>_<n>, or dim_scratch_<pid>_<n> outside a test.
  static std::string UniqueName() {
    std::string name = "dim_";
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    if (info != nullptr) {
      name.append(info->test_suite_name()).append("_").append(info->name());
    } else {
      name.append("scratch");
    }
    // Parameterised names hold '/'; keep the folder one level deep.
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    static std::atomic<int> count{0};
    return name + "_" + std::to_string(getpid()) + "_" + std::to_string(count++);
  }

  std::filesystem::path path_;
};

// Fixture base: dir_ is a fresh ScratchDir for each test.
class ScratchDirTest : public ::testing::Test {
 protected:
  // Writes content to the file `name` in dir_ and returns its path.
  std::filesystem::path Write(const std::filesystem::path& name, std::string_view content) const {
    return dir_.Write(name, content);
  }

  ScratchDir dir_;
};

}  // namespace dim::testing
