#include "core/infer/value_info.h"

namespace dim::core {

std::string_view DTypeName(DType type) {
  switch (type) {
    case DType::kNone:
      return "absent";
    case DType::kFloat:
      return "float32";
    case DType::kInt64:
      return "int64";
    case DType::kBool:
      return "bool";
    case DType::kString:
      return "string";
    case DType::kOther:
      return "a type other than float32, int64 and bool";
  }
  return "unknown";
}

}  // namespace dim::core
