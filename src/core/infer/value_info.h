// What the graph builder knows about a value at load time: its type, its shape with a
// symbolic batch size and, for constants, its contents.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/infer/shape.h"
#include "core/infer/tensor.h"

namespace dim::core {

// Element types as far as the engine cares. Every value that exists at run time is held
// in float32 storage: float32 itself, int64 values computed at run time (ArgMax's indices,
// a classifier's labels; exact below 2^24) and booleans (comparisons, 0 or 1). int64
// constants exist only at load time (shape parameters, indices). kOther is a value no
// operator here computes with (a bool flag that is ignored); kString a classifier's string
// labels, which are never computed either.
enum class DType { kNone, kFloat, kInt64, kBool, kString, kOther };

std::string_view DTypeName(DType type);

struct ValueInfo final {
  std::string name;           // The ONNX value name; empty for an absent optional input.
  DType type = DType::kNone;  // kNone: an absent optional input.
  Shape shape;
  std::shared_ptr<const Tensor> constant;            // Set for float constants.
  std::shared_ptr<const std::vector<int64_t>> ints;  // Set for int64 constants.

  bool present() const { return type != DType::kNone; }
  bool is_constant() const { return constant != nullptr || ints != nullptr; }
};

}  // namespace dim::core
