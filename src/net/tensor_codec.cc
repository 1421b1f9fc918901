#include "net/tensor_codec.h"

#include <cmath>
#include <set>

#include "core/input_limits.h"
#include "core/text.h"

namespace dim::net {
namespace {

std::string Shape(const dim::common::Tensor& t) {
  std::string out = "[";
  for (int i = 0; i < t.shape_size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(t.shape(i));
  }
  return out + "]";
}

// The tensor's rows and columns, once its dtype, shape, size and byte count are checked.
core::Result<std::pair<int64_t, int64_t>> CheckedShape(const dim::common::Tensor& t,
                                                       const std::string& field,
                                                       int64_t max_values) {
  if (t.dtype() != kFloat32) {
    return core::Status::InvalidArgument(field + ".dtype: expected float32, got '" +
                                         core::Snippet(t.dtype()) + "'");
  }
  if (t.shape_size() != 2 || t.shape(0) < 1 || t.shape(1) < 1) {
    return core::Status::InvalidArgument(
        field + ".shape: expected [rows, columns], both at least 1, got " + Shape(t));
  }
  const int64_t rows = t.shape(0);
  const int64_t cols = t.shape(1);
  // Divided, not multiplied: a lying shape must not overflow.
  if (rows > max_values / cols) {
    return core::Status::InvalidArgument(field + ".shape: " + Shape(t) + " holds more than the " +
                                         std::to_string(max_values) +
                                         " values a message may carry");
  }
  const uint64_t expected = static_cast<uint64_t>(rows * cols) * sizeof(float);
  if (t.data().size() != expected) {
    return core::Status::InvalidArgument(field + ".data: " + std::to_string(t.data().size()) +
                                         " bytes, expected " + std::to_string(expected) +
                                         " for shape " + Shape(t) + " of float32");
  }
  if (t.columns_size() != 0 && t.columns_size() != cols) {
    return core::Status::InvalidArgument(field + ".columns: " + std::to_string(t.columns_size()) +
                                         " names for " + std::to_string(cols) + " columns");
  }
  return std::pair{rows, cols};
}

// INVALID_ARGUMENT naming the first value that is not finite.
core::Status CheckFinite(const float* values, int64_t rows, int64_t cols,
                         const std::string& field) {
  for (int64_t i = 0; i < rows * cols; ++i) {
    if (!std::isfinite(values[i])) {
      return core::Status::InvalidArgument(field + ".data[" + std::to_string(i / cols) + "][" +
                                           std::to_string(i % cols) +
                                           "]: expected a finite number");
    }
  }
  return core::Status::Ok();
}

// Row-major values, rows x cols, and their column names (none, or one per column).
void FillTensor(const float* values, int64_t rows, int64_t cols,
                const std::vector<std::string>& columns, dim::common::Tensor* out) {
  out->set_dtype(std::string(kFloat32));
  out->clear_shape();
  out->add_shape(rows);
  out->add_shape(cols);
  std::string* data = out->mutable_data();
  data->clear();
  core::AppendFloat32Le(values, static_cast<size_t>(rows * cols), *data);
  out->clear_columns();
  for (const auto& c : columns) out->add_columns(c);
}

}  // namespace

void ToTensor(const core::Matrix& rows, dim::common::Tensor* out,
              const std::vector<std::string>& columns) {
  FillTensor(rows.data(), rows.rows(), rows.cols(), columns, out);
}

void ToTensor(const core::ClientData& rows, dim::common::Tensor* out) {
  FillTensor(rows.values.data(), rows.rows, rows.width, rows.columns, out);
}

core::Result<core::Matrix> MatrixFromTensor(const dim::common::Tensor& tensor,
                                            std::string_view field, int64_t max_values) {
  const std::string at(field);
  DIM_ASSIGN_OR_RETURN(auto shape, CheckedShape(tensor, at, max_values));
  core::Matrix m(shape.first, shape.second);
  core::ReadFloat32Le(tensor.data().data(), static_cast<size_t>(m.size()), m.data());
  DIM_RETURN_IF_ERROR(CheckFinite(m.data(), shape.first, shape.second, at));
  return m;
}

core::Result<core::ClientData> ClientDataFromTensor(const dim::common::Tensor& tensor,
                                                    std::string_view field, int64_t max_values) {
  const std::string at(field);
  DIM_ASSIGN_OR_RETURN(auto shape, CheckedShape(tensor, at, max_values));
  core::ClientData data;
  data.rows = shape.first;
  data.width = shape.second;
  std::set<std::string_view> seen;
  for (int i = 0; i < tensor.columns_size(); ++i) {
    const std::string& name = tensor.columns(i);
    const std::string where = at + ".columns[" + std::to_string(i) + "]";
    if (name.empty()) return core::Status::InvalidArgument(where + ": must not be empty");
    if (name.size() > core::kMaxNameBytes || !core::IsValidUtf8(name)) {
      return core::Status::InvalidArgument(where + ": expected UTF-8 of at most " +
                                           std::to_string(core::kMaxNameBytes) + " bytes");
    }
    if (!seen.insert(name).second) {
      return core::Status::InvalidArgument(where + ": '" + core::Snippet(name) + "' given twice");
    }
    data.columns.push_back(name);
  }
  data.values.resize(static_cast<size_t>(data.rows * data.width));
  core::ReadFloat32Le(tensor.data().data(), data.values.size(), data.values.data());
  DIM_RETURN_IF_ERROR(CheckFinite(data.values.data(), data.rows, data.width, at));
  return data;
}

}  // namespace dim::net
