#include "core/infer/tensor_proto.h"

#include <bit>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "onnx.pb.h"

namespace dim::core {
namespace {

static_assert(std::endian::native == std::endian::little,
              "raw_data is little-endian; a big-endian host would need byte swapping");

std::string TypeName(int32_t data_type) {
  if (onnx::TensorProto::DataType_IsValid(data_type)) {
    return onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(data_type));
  }
  return "type " + std::to_string(data_type);
}

}  // namespace

Result<ValueInfo> DecodeTensorProto(const onnx::TensorProto& proto) {
  const std::string what = "tensor '" + proto.name() + "'";
  if (proto.data_location() == onnx::TensorProto::EXTERNAL || proto.external_data_size() > 0) {
    return Status::InvalidArgument(what + " uses external data, which is not supported");
  }
  if (proto.has_segment()) {
    return Status::InvalidArgument(what + " is segmented, which is not supported");
  }
  ValueInfo info;
  info.name = proto.name();
  std::vector<int64_t> dims;
  int64_t count = 1;
  for (int64_t d : proto.dims()) {
    if (d < 0 || d > kMaxDimension || (d > 0 && count > kMaxDimension / d)) {
      return Status::InvalidArgument(what + " has invalid dimensions");
    }
    count *= d;
    dims.push_back(d);
    info.shape.push_back(Dim::Known(d));
  }

  const int32_t type = proto.data_type();
  const std::string& raw = proto.raw_data();
  if (type == onnx::TensorProto::FLOAT) {
    const bool from_raw = proto.has_raw_data();
    const int64_t have = from_raw ? static_cast<int64_t>(raw.size() / sizeof(float))
                                  : static_cast<int64_t>(proto.float_data_size());
    if (have != count || (from_raw && raw.size() % sizeof(float) != 0)) {
      return Status::InvalidArgument(what + " holds " + std::to_string(have) +
                                     " values but its dimensions need " + std::to_string(count));
    }
    Tensor t = Tensor::Uninitialized(dims);
    if (count > 0) {
      const void* src = from_raw ? static_cast<const void*>(raw.data())
                                 : static_cast<const void*>(proto.float_data().data());
      std::memcpy(t.data(), src, static_cast<size_t>(count) * sizeof(float));
    }
    info.type = DType::kFloat;
    info.constant = std::make_shared<const Tensor>(std::move(t));
    return info;
  }
  if (type == onnx::TensorProto::INT64) {
    const bool from_raw = proto.has_raw_data();
    const int64_t have = from_raw ? static_cast<int64_t>(raw.size() / sizeof(int64_t))
                                  : static_cast<int64_t>(proto.int64_data_size());
    if (have != count || (from_raw && raw.size() % sizeof(int64_t) != 0)) {
      return Status::InvalidArgument(what + " holds " + std::to_string(have) +
                                     " values but its dimensions need " + std::to_string(count));
    }
    auto ints = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(count));
    if (count > 0) {
      if (from_raw) {
        std::memcpy(ints->data(), raw.data(), static_cast<size_t>(count) * sizeof(int64_t));
      } else {
        std::memcpy(ints->data(), proto.int64_data().data(),
                    static_cast<size_t>(count) * sizeof(int64_t));
      }
    }
    info.type = DType::kInt64;
    info.ints = std::move(ints);
    return info;
  }
  if (type == onnx::TensorProto::BOOL) {
    // Only ever an ignored flag (Dropout's training_mode); no float operator accepts it.
    const int64_t have = proto.has_raw_data() ? static_cast<int64_t>(raw.size())
                                              : static_cast<int64_t>(proto.int32_data_size());
    if (have != count) {
      return Status::InvalidArgument(what + " holds " + std::to_string(have) +
                                     " values but its dimensions need " + std::to_string(count));
    }
    info.type = DType::kOther;
    return info;
  }
  return Status::InvalidArgument(what + " has type " + TypeName(type) +
                                 "; only float32 (and int64 shape parameters) are supported");
}

}  // namespace dim::core
