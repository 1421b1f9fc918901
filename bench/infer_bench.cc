// Micro-benchmarks for dim's inference engine, CSV reader and node task path.
//
//   infer_bench MODEL.onnx [--batches 1,64,4096] [--seconds S] [--threads N]
//               [--flops-per-row F]
//     prints "model rss_mb=M" (resident memory the loaded model adds), then per batch
//     "infer batch=B threads=N rows_per_s=R ...".
//       Times Model::Run on random input, each batch size for S seconds; prints one
//       machine-readable line per batch: "infer batch=B rows_per_s=.. us_per_row=.. gflops=..".
//       With N > 1 threads, N workers call Run concurrently (Run is thread-safe) on their
//       own inputs, and rows/s is the total.
//   infer_bench --csv FILE
//       Streams FILE with CsvReader in 4096-row batches; prints "csv bytes=.. seconds=..
//       mb_per_s=..".
//   infer_bench --summarise MODEL FILE
//       CsvReader -> Model::Run -> SummaryBuilder over FILE, as a node task does; prints
//       "summarise rows=.. seconds=.. rows_per_s=.. peak_rss_mb=..".
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/data/csv_reader.h"
#include "core/infer/model.h"
#include "core/matrix.h"
#include "core/stats/summary.h"

namespace {

using Clock = std::chrono::steady_clock;
using dim::core::Matrix;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "infer_bench: %s\n", what.c_str());
  std::exit(1);
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// A /proc/self/status figure in MiB ("VmHWM:" the peak resident set, "VmRSS:" the
// current one), or -1 when /proc is unavailable.
double StatusMb(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key, 0) == 0) {
      std::istringstream in(line.substr(key.size()));
      double kb = 0;
      in >> kb;
      return kb / 1024.0;
    }
  }
  return -1;
}

double PeakRssMb() { return StatusMb("VmHWM:"); }

std::shared_ptr<const dim::core::Model> Load(const std::string& path) {
  auto model = dim::core::Model::LoadFile(path);
  if (!model.ok()) Die(model.status().ToString());
  return *model;
}

// Runs the model on `batch`-row inputs for about `seconds` with `threads` workers.
// Returns rows per second, all workers together.
double TimeRun(const dim::core::Model& model, int64_t batch, double seconds, int threads) {
  std::atomic<bool> stop{false};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<int64_t> rows(static_cast<size_t>(threads), 0);
  std::vector<std::thread> workers;
  auto worker = [&](int index) {
    std::mt19937 rng(static_cast<unsigned>(1234 + index));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    Matrix input(batch, model.input_width());
    for (Eigen::Index i = 0; i < input.size(); ++i) input.data()[i] = normal(rng);
    // Warm-up: the first run allocates.
    for (int i = 0; i < 3; ++i) {
      auto out = model.Run(input);
      if (!out.ok()) Die(out.status().ToString());
    }
    ready.fetch_add(1);
    while (!go.load()) std::this_thread::yield();
    int64_t done = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      auto out = model.Run(input);
      if (!out.ok()) Die(out.status().ToString());
      done += batch;
    }
    rows[static_cast<size_t>(index)] = done;
  };
  // Each worker warms up, then waits; the clock starts when all are ready.
  for (int t = 0; t < threads; ++t) workers.emplace_back(worker, t);
  while (ready.load() < threads) std::this_thread::yield();
  auto start = Clock::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  double elapsed = Seconds(start);
  int64_t total = 0;
  for (int64_t r : rows) total += r;
  return static_cast<double>(total) / elapsed;
}

std::vector<int64_t> ParseList(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoll(item));
  return out;
}

int InferMode(int argc, char** argv) {
  std::string model_path = argv[1];
  std::vector<int64_t> batches = {1, 64, 4096};
  double seconds = 2.0;
  int threads = 1;
  double flops_per_row = 0;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) Die("missing value after " + arg);
    std::string value = argv[++i];
    if (arg == "--batches") {
      batches = ParseList(value);
    } else if (arg == "--seconds") {
      seconds = std::stod(value);
    } else if (arg == "--threads") {
      threads = std::stoi(value);
    } else if (arg == "--flops-per-row") {
      flops_per_row = std::stod(value);
    } else {
      Die("unknown argument " + arg);
    }
  }
  if (threads < 1) Die("--threads must be at least 1");
  // What the loaded model holds: resident memory after loading it, less before (the file's
  // bytes and the parsed protobuf are freed by then).
  const double rss_before = StatusMb("VmRSS:");
  auto model = Load(model_path);
  std::printf("model rss_mb=%.2f\n", StatusMb("VmRSS:") - rss_before);
  for (int64_t batch : batches) {
    double rows_per_s = TimeRun(*model, batch, seconds, threads);
    std::printf("infer batch=%lld threads=%d rows_per_s=%.1f us_per_row=%.3f gflops=%.3f\n",
                static_cast<long long>(batch), threads, rows_per_s, 1e6 / rows_per_s,
                rows_per_s * flops_per_row / 1e9);
    std::fflush(stdout);
  }
  return 0;
}

// Streams the CSV at `path` in 4096-row batches through `use`; returns the rows read.
template <typename Use>
int64_t ForEachBatch(const std::string& path, Use use) {
  auto reader = dim::core::CsvReader::Open(path);
  if (!reader.ok()) Die(reader.status().ToString());
  Matrix batch;
  int64_t rows = 0;
  while (true) {
    auto n = (*reader)->ReadBatch(4096, &batch);
    if (!n.ok()) Die(n.status().ToString());
    if (*n == 0) return rows;
    use(batch);
    rows += *n;
  }
}

int CsvMode(const std::string& path) {
  auto start = Clock::now();
  const int64_t rows = ForEachBatch(path, [](const Matrix&) {});
  double elapsed = Seconds(start);
  double bytes = static_cast<double>(std::filesystem::file_size(path));
  std::printf("csv rows=%lld bytes=%.0f seconds=%.3f mb_per_s=%.1f\n", static_cast<long long>(rows),
              bytes, elapsed, bytes / 1e6 / elapsed);
  return 0;
}

int SummariseMode(const std::string& model_path, const std::string& path) {
  auto start = Clock::now();
  auto model = Load(model_path);
  dim::core::SummaryBuilder builder(/*count_classes=*/true);
  const int64_t rows = ForEachBatch(path, [&](const Matrix& batch) {
    auto out = model->Run(batch);
    if (!out.ok()) Die(out.status().ToString());
    if (auto status = builder.Add(*out); !status.ok()) Die(status.ToString());
  });
  auto summary = builder.Finish();
  double elapsed = Seconds(start);
  std::printf("summarise rows=%lld seconds=%.3f rows_per_s=%.1f peak_rss_mb=%.1f\n",
              static_cast<long long>(summary.rows), elapsed, static_cast<double>(rows) / elapsed,
              PeakRssMb());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: infer_bench MODEL.onnx [--batches 1,64,4096] [--seconds S] "
                 "[--threads N] [--flops-per-row F]\n"
                 "       infer_bench --csv FILE\n"
                 "       infer_bench --summarise MODEL.onnx FILE\n");
    return 2;
  }
  std::string first = argv[1];
  if (first == "--csv") {
    if (argc != 3) Die("usage: infer_bench --csv FILE");
    return CsvMode(argv[2]);
  }
  if (first == "--summarise") {
    if (argc != 4) Die("usage: infer_bench --summarise MODEL.onnx FILE");
    return SummariseMode(argv[2], argv[3]);
  }
  return InferMode(argc, argv);
}
