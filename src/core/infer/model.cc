#include "core/infer/model.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <system_error>

#include "core/infer/device_executor.h"
#include "core/infer/graph.h"
#include "core/infer/graph_builder.h"
#include "core/regular_file.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

// Rows per slice of a large batch: big enough for efficient matrix products, small enough
// for a layer's activations (and the next layer's weights) to stay in the L2 cache. On a
// 512 KiB-L2 core, an MLP 64-256-256-2 runs at 58 GFLOP/s with 64 or 128 rows, 36 with 256
// and 37 with 1024 (bench/infer_bench).
constexpr int64_t kSliceRows = 128;
// On a GPU, slices only bound the memory a batch takes: a GPU needs many rows at once to
// be busy, and each slice pays a round trip from the host.
constexpr int64_t kGpuSliceRows = 65536;
// The most floats one value may hold in a slice (64 MiB): a model whose values are wide
// (a Gather repeating columns, many classes) runs in thinner slices, down to one row.
constexpr int64_t kSliceElements = int64_t{1} << 24;

// Rows per slice for `graph`: `rows`, or fewer when its widest value would exceed
// kSliceElements.
int64_t SliceRows(const Graph& graph, int64_t rows) {
  int64_t widest = 1;
  for (const Shape& shape : graph.plan().value_shapes) {
    int64_t width = 1;
    for (size_t i = 1; i < shape.size(); ++i) width *= std::max<int64_t>(shape[i].factor, 1);
    widest = std::max(widest, width);
  }
  return std::clamp<int64_t>(kSliceElements / widest, 1, rows);
}

// Runs input (rows x the graph's input width) through the graph, `run_slice(data, n,
// slice_labels)` running n rows starting at `data` (slice_labels null unless `labels` is
// wanted). Labels are appended to `labels` when it is non-null.
template <typename RunSlice>
Result<Matrix> RunInSlices(const Graph& graph, int64_t slice_rows, const Matrix& input,
                           int64_t output_width, std::vector<int64_t>* labels,
                           const RunSlice& run_slice) {
  const int64_t rows = input.rows();
  const int64_t input_width = input.cols();
  Matrix result(rows, output_width);
  if (labels != nullptr) {
    labels->clear();
    labels->reserve(static_cast<size_t>(rows));
  }
  // Large batches run in slices when rows are independent: intermediate values then stay
  // small (in cache, and without fresh pages to fault in), and memory stays bounded.
  const int64_t slice = graph.rows_independent() ? slice_rows : std::max<int64_t>(rows, 1);
  Tensor slice_labels;
  int64_t begin = 0;
  do {
    const int64_t n = std::min(slice, rows - begin);
    Result<Tensor> output = run_slice(input.data() + begin * input_width, n,
                                      labels != nullptr ? &slice_labels : nullptr);
    if (!output.ok()) return output.status();
    const Tensor& y = *output;
    if (y.rank() < 1 || y.dim(0) != n || y.size() != n * output_width) {
      return Status::Internal("the output has an unexpected shape");
    }
    if (y.size() > 0) {
      std::memcpy(result.data() + begin * output_width, y.data(),
                  static_cast<size_t>(y.size()) * sizeof(float));
    }
    if (labels != nullptr) {
      if (slice_labels.size() != n) return Status::Internal("the labels have an unexpected shape");
      for (int64_t i = 0; i < n; ++i) {
        labels->push_back(static_cast<int64_t>(slice_labels.data()[i]));
      }
    }
    begin += n;
  } while (begin < rows);
  return result;
}

int64_t RowWidth(const Shape& shape) {
  int64_t width = 1;
  for (size_t i = 1; i < shape.size(); ++i) width *= shape[i].factor;
  return width;
}

}  // namespace

Model::Model(std::string name, std::unique_ptr<Graph> graph, int64_t input_width,
             int64_t output_width, Device device)
    : name_(std::move(name)),
      graph_(std::move(graph)),
      input_width_(input_width),
      output_width_(output_width),
      device_(device) {}

Model::~Model() = default;

Result<std::shared_ptr<const Model>> Model::LoadFile(const std::filesystem::path& path,
                                                     Device device) {
  const std::string name = path.stem().string();
  auto bytes = ReadRegularFile(path, kMaxFileBytes);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("model file '" + path.string() + "' not found");
    }
    return Status::InvalidArgument("model '" + name + "': " + bytes.status().message());
  }
  return LoadBytes(*bytes, name, device);
}

Result<std::shared_ptr<const Model>> Model::LoadBytes(std::string_view bytes, std::string name,
                                                      Device device) {
  const std::string prefix = "model '" + name + "'";
  // First, so that a daemon without a usable GPU says so whatever the model.
  if (device == Device::kCuda) {
    if (Status usable = CheckCudaUsable(); !usable.ok()) return usable.WithPrefix(prefix);
  }
  const auto invalid = [&prefix](const std::string& why) {
    return Status::InvalidArgument(prefix + ": not a valid ONNX model (" + why + ")");
  };
  if (bytes.empty()) return invalid("empty file");
  if (bytes.size() > kMaxFileBytes) return invalid("larger than 2 GiB");
  Result<std::unique_ptr<Graph>> graph = Status::Internal("not built");
  try {
    onnx::ModelProto proto;
    if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return invalid("cannot parse it as an ONNX protobuf; corrupt or truncated");
    }
    if (!proto.has_ir_version()) return invalid("no IR version");
    if (!proto.has_graph()) return invalid("no graph");
    graph = BuildGraph(proto);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted(prefix + ": out of memory while loading");
  }
  if (!graph.ok()) return graph.status().WithPrefix(prefix);
  const int64_t input_width = RowWidth((*graph)->input_shape());
  const int64_t output_width = RowWidth((*graph)->output_shape());
  // The constructor is private, so std::make_shared cannot reach it.
  std::shared_ptr<Model> model(
      new Model(std::move(name), std::move(*graph), input_width, output_width, device));
  model->slice_rows_ = SliceRows(*model->graph_, kSliceRows);
  model->gpu_slice_rows_ = SliceRows(*model->graph_, kGpuSliceRows);
  if (device == Device::kCuda) {
    Result<std::unique_ptr<DeviceExecutor>> executor = MakeCudaExecutor(*model->graph_);
    if (!executor.ok()) return executor.status().WithPrefix(prefix);
    model->executor_ = std::move(*executor);
  }
  return std::shared_ptr<const Model>(std::move(model));
}

bool Model::has_labels() const { return graph_->has_labels(); }

Result<Matrix> Model::Run(const Matrix& input, std::vector<int64_t>* labels) const {
  if (input.cols() != input_width_) {
    return Status::InvalidArgument("model '" + name_ + "': input has " +
                                   std::to_string(input.cols()) + " columns, expected " +
                                   std::to_string(input_width_));
  }
  if (!graph_->has_labels()) labels = nullptr;
  try {
    Result<Matrix> output = Status::Internal("not run");
    if (executor_ != nullptr && labels == nullptr) {
      output = RunInSlices(
          *graph_, gpu_slice_rows_, input, output_width_, nullptr,
          [this](const float* data, int64_t n, Tensor*) { return executor_->Run(data, n); });
    } else {
      output = RunInSlices(*graph_, slice_rows_, input, output_width_, labels,
                           [this](const float* data, int64_t n, Tensor* slice_labels) {
                             return graph_->Run(
                                 Tensor::FromData(ResolveShape(graph_->input_shape(), n), data),
                                 slice_labels);
                           });
    }
    if (!output.ok()) return output.status().WithPrefix("model '" + name_ + "'");
    return output;
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("model '" + name_ + "': out of memory for a batch of " +
                                     std::to_string(input.rows()) + " rows");
  }
}

}  // namespace dim::core
