// Typed access to an ONNX node's attributes, with the ONNX defaults supplied by the caller.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace onnx {
class NodeProto;
class TensorProto;
}  // namespace onnx

namespace dim::core {

// Borrows the node, which must outlive it. Every getter returns INVALID_ARGUMENT naming
// the attribute when it is present with another type.
class NodeAttributes final {
 public:
  explicit NodeAttributes(const onnx::NodeProto& node) : node_(node) {}

  bool Has(std::string_view name) const;
  Result<int64_t> Int(std::string_view name, int64_t default_value) const;
  Result<float> Float(std::string_view name, float default_value) const;
  Result<std::string> String(std::string_view name, std::string default_value) const;
  // Empty when absent.
  Result<std::vector<int64_t>> Ints(std::string_view name) const;
  Result<std::vector<float>> Floats(std::string_view name) const;
  Result<std::vector<std::string>> Strings(std::string_view name) const;
  // Null when absent.
  Result<const onnx::TensorProto*> Tensor(std::string_view name) const;

 private:
  const onnx::NodeProto& node_;
};

}  // namespace dim::core
