#include "core/infer/node_attributes.h"

#include "onnx.pb.h"

namespace dim::core {
namespace {

const onnx::AttributeProto* Find(const onnx::NodeProto& node, std::string_view name) {
  for (const onnx::AttributeProto& a : node.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

// Old exporters leave `type` unset; then the field that is filled in decides.
bool HasType(const onnx::AttributeProto& a, onnx::AttributeProto::AttributeType type) {
  if (a.type() != onnx::AttributeProto::UNDEFINED) return a.type() == type;
  switch (type) {
    case onnx::AttributeProto::INT:
      return a.has_i();
    case onnx::AttributeProto::FLOAT:
      return a.has_f();
    case onnx::AttributeProto::STRING:
      return a.has_s();
    case onnx::AttributeProto::TENSOR:
      return a.has_t();
    case onnx::AttributeProto::INTS:
      return a.ints_size() > 0;
    case onnx::AttributeProto::FLOATS:
      return a.floats_size() > 0;
    case onnx::AttributeProto::STRINGS:
      return a.strings_size() > 0;
    default:
      return false;
  }
}

Status WrongType(std::string_view name, std::string_view expected) {
  return Status::InvalidArgument("attribute '" + std::string(name) + "' must be " +
                                 std::string(expected));
}

}  // namespace

bool NodeAttributes::Has(std::string_view name) const { return Find(node_, name) != nullptr; }

Result<int64_t> NodeAttributes::Int(std::string_view name, int64_t default_value) const {
  const onnx::AttributeProto* a = Find(node_, name);
  if (a == nullptr) return default_value;
  if (!HasType(*a, onnx::AttributeProto::INT)) return WrongType(name, "an int");
  return a->i();
}

Result<float> NodeAttributes::Float(std::string_view name, float default_value) const {
  const onnx::AttributeProto* a = Find(node_, name);
  if (a == nullptr) return default_value;
  if (!HasType(*a, onnx::AttributeProto::FLOAT)) return WrongType(name, "a float");
  return a->f();
}

Result<std::string> NodeAttributes::String(std::string_view name, std::string default_value) const {
  const onnx::AttributeProto* a = Find(node_, name);
  if (a == nullptr) return default_value;
  if (!HasType(*a, onnx::AttributeProto::STRING)) return WrongType(name, "a string");
  return a->s();
}

Result<std::vector<int64_t>> NodeAttributes::Ints(std::string_view name) const {
  const onnx::AttributeProto* a = Find(node_, name);
  if (a == nullptr) return std::vector<int64_t>{};
  if (!HasType(*a, onnx::AttributeProto::INTS)) return WrongType(name, "a list of ints");
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

Result<std::vector<float>> NodeAttributes::Floats(std::string_view name) const {
  const onnx::AttributeProto* a = Find(node_, name);
  if (a == nullptr) return std::vector<float>{};
  if (!HasType(*a, onnx::AttributeProto::FLOATS)) return WrongType(name, "a list of floats");
  return std::vector<float>(a->floats().begin(), a->floats().end());
}

Result<std::vector<std::string>> NodeAttributes::Strings(std::string_view name) const {
  const onnx::AttributeProto* a = Find(node_, name);
  if (a == nullptr) return std::vector<std::string>{};
  if (!HasType(*a, onnx::AttributeProto::STRINGS)) return WrongType(name, "a list of strings");
  return std::vector<std::string>(a->strings().begin(), a->strings().end());
}

Result<const onnx::TensorProto*> NodeAttributes::Tensor(std::string_view name) const {
  const onnx::AttributeProto* a = Find(node_, name);
  if (a == nullptr) return static_cast<const onnx::TensorProto*>(nullptr);
  if (!HasType(*a, onnx::AttributeProto::TENSOR)) return WrongType(name, "a tensor");
  return &a->t();
}

}  // namespace dim::core
