// Decoding of ONNX TensorProto (initializers and Constant values) into load-time values.
#pragma once

#include "core/infer/value_info.h"
#include "core/status.h"

namespace onnx {
class TensorProto;
}  // namespace onnx

namespace dim::core {

// A float32 tensor becomes a constant, an int64 tensor becomes ints, a bool tensor a kOther
// value without contents (only ignored flags are bool); the shape is the
// declared dims, all known. INVALID_ARGUMENT, naming the tensor, for any other type,
// negative or oversized dims, data whose length does not match the dims, external data or
// segments. The ValueInfo's name is the tensor's name.
Result<ValueInfo> DecodeTensorProto(const onnx::TensorProto& proto);

}  // namespace dim::core
