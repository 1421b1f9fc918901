// An ONNX model loaded, validated and ready to run on the CPU with Eigen, or on a CUDA GPU.
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/infer/device.h"
#include "core/matrix.h"
#include "core/status.h"

namespace dim::core {

class Graph;           // The validated, executable form of the ONNX graph (infer/graph.h).
class DeviceExecutor;  // Runs the graph on a GPU (infer/device_executor.h).

// A model takes a batch of rows (rows x input_width features) and returns one row of
// output_width values per input row. The ONNX graph must have one float input whose first
// dimension is the batch (dynamic or fixed) and at least one output; the first output is
// the model's output, except for a classifier whose first output is its int64 label and a
// later one its float scores (ai.onnx.ml classifiers, ZipMap read as the probability
// tensor): the scores are the output and the labels come beside them (has_labels()).
//
// Thread-safety: a loaded Model is immutable; Run may be called from many threads at once.
class Model final {
 public:
  // The largest ONNX file a model may be: protobuf parses at most 2 GiB in one message.
  static constexpr size_t kMaxFileBytes = static_cast<size_t>(INT_MAX);

  // Reads, parses and validates the file. Every problem is found here, never in Run:
  // NOT_FOUND when the file does not exist; INVALID_ARGUMENT for a truncated or corrupt
  // file, an unsupported operator, a missing initializer or a shape mismatch, with a
  // message naming the node (name or index) and its operator.
  // With Device::kCuda the model runs on CUDA device 0, its weights copied there now;
  // FAILED_PRECONDITION when this dim was built without CUDA ("this dim was built without
  // CUDA (meson setup -Dcuda=enabled)") or no GPU is usable ("no CUDA device: ...");
  // RESOURCE_EXHAUSTED when the weights do not fit in GPU memory.
  static Result<std::shared_ptr<const Model>> LoadFile(const std::filesystem::path& path,
                                                       Device device = Device::kCpu);
  // The same from bytes in memory; `name` is used in messages and by name().
  static Result<std::shared_ptr<const Model>> LoadBytes(std::string_view bytes, std::string name,
                                                        Device device = Device::kCpu);

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const std::string& name() const { return name_; }
  int64_t input_width() const { return input_width_; }
  int64_t output_width() const { return output_width_; }
  Device device() const { return device_; }
  // Whether the model predicts labels beside its output (a classifier's label output).
  bool has_labels() const;

  // Runs the graph on input (rows x input_width()); returns rows x output_width(). With
  // `labels` non-null and has_labels(), also sets it to one label per row (always on the
  // CPU: a model with labels runs there, its classifiers being CPU operators anyway).
  // INVALID_ARGUMENT when input has the wrong width; RESOURCE_EXHAUSTED when memory for
  // the batch (host or GPU) cannot be had; INTERNAL when the GPU fails.
  Result<Matrix> Run(const Matrix& input, std::vector<int64_t>* labels = nullptr) const;

 private:
  Model(std::string name, std::unique_ptr<Graph> graph, int64_t input_width, int64_t output_width,
        Device device);

  std::string name_;
  std::unique_ptr<Graph> graph_;
  int64_t input_width_ = 0;
  int64_t output_width_ = 0;
  Device device_ = Device::kCpu;
  // Rows per slice of a batch on the CPU and on a GPU, fixed at load (model.cc).
  int64_t slice_rows_ = 1;
  int64_t gpu_slice_rows_ = 1;
  // Set for Device::kCuda; declared after graph_, which it refers to, so it goes first.
  std::unique_ptr<DeviceExecutor> executor_;
};

}  // namespace dim::core
