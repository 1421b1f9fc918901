// The main of a fuzz target built without libFuzzer (the ordinary gcc build): replays
// every input file under the directories (or files) given on the command line through
// LLVMFuzzerTestOneInput, so the seed corpus and every crash once found and fixed run as
// a regression test. Files ending in ".md" (a directory's README) are skipped.
// Exits 1 when an argument is missing or names an empty directory, when a file cannot be
// read, or when no input ran at all, so a mistyped path cannot pass as "nothing crashed".
// A directory holding only a README is allowed: a regressions directory before any crash.
// Memory is capped as scripts/fuzz.sh caps it (-rss_limit_mb=2048), so an input that once
// made the code ask for gigabytes fails here too instead of passing slowly.
#include <sys/resource.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

// AddressSanitizer reserves terabytes of address space, so no cap can be set under it.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

constexpr rlim_t kMemoryLimitBytes = rlim_t{2} << 30;

void CapMemory() {
  if (kAddressSanitizer) return;
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) != 0) return;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < kMemoryLimitBytes) return;
  limit.rlim_cur = kMemoryLimitBytes;
  setrlimit(RLIMIT_AS, &limit);  // Best effort: without the cap the replay still runs.
}

bool IsInput(const fs::path& path) {
  return fs::is_regular_file(path) && path.extension() != ".md";
}

// Adds the inputs named by one argument to *inputs, sorted so runs are reproducible.
// False when the argument is missing or an empty directory.
bool CollectInputs(const fs::path& arg, std::vector<fs::path>* inputs) {
  std::error_code ec;
  if (fs::is_regular_file(arg, ec)) {
    if (IsInput(arg)) inputs->push_back(arg);
    return true;
  }
  if (!fs::is_directory(arg, ec)) return false;
  std::vector<fs::path> found;
  bool any_file = false;
  for (const auto& entry : fs::recursive_directory_iterator(arg, ec)) {
    if (!entry.is_regular_file()) continue;
    any_file = true;
    if (IsInput(entry.path())) found.push_back(entry.path());
  }
  if (ec || !any_file) return false;
  std::sort(found.begin(), found.end());
  inputs->insert(inputs->end(), found.begin(), found.end());
  return true;
}

bool Replay(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return false;
  // A copy in a buffer of its own size, so AddressSanitizer sees reads past the end.
  const std::vector<uint8_t> data(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(data.data(), data.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
    return 1;
  }
  CapMemory();
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    if (!CollectInputs(argv[i], &inputs)) {
      std::fprintf(stderr, "%s: '%s' is missing or an empty directory\n", argv[0], argv[i]);
      return 1;
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "%s: no inputs to run\n", argv[0]);
    return 1;
  }
  for (const fs::path& input : inputs) {
    if (!Replay(input)) {
      std::fprintf(stderr, "%s: cannot read '%s'\n", argv[0], input.c_str());
      return 1;
    }
  }
  std::printf("ran %zu inputs\n", inputs.size());
  return 0;
}
