#include "core/infer/op_registry.h"

#include <algorithm>
#include <array>
#include <span>
#include <string>

#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

struct OpEntry {
  std::string_view type;
  int min_inputs;
  int max_inputs;
  int max_outputs;
  OpFactory factory;
};

// Sorted by type. Arity is the widest over opsets 7-21; factories check the rest.
constexpr std::array kOps = {
    OpEntry{"Abs", 1, 1, 1, &MakeAbs},
    OpEntry{"Add", 2, 2, 1, &MakeAdd},
    OpEntry{"ArgMax", 1, 1, 1, &MakeArgMax},
    OpEntry{"BatchNormalization", 5, 5, 5, &MakeBatchNormalization},
    OpEntry{"Cast", 1, 1, 1, &MakeCast},
    OpEntry{"Clip", 1, 3, 1, &MakeClip},
    OpEntry{"Concat", 1, 1 << 16, 1, &MakeConcat},
    OpEntry{"Constant", 0, 0, 1, &MakeConstant},
    OpEntry{"Div", 2, 2, 1, &MakeDiv},
    OpEntry{"Dropout", 1, 3, 2, &MakeDropout},
    OpEntry{"Equal", 2, 2, 1, &MakeEqual},
    OpEntry{"Erf", 1, 1, 1, &MakeErf},
    OpEntry{"Exp", 1, 1, 1, &MakeExp},
    OpEntry{"Flatten", 1, 1, 1, &MakeFlatten},
    OpEntry{"Gather", 2, 2, 1, &MakeGather},
    OpEntry{"Gemm", 2, 3, 1, &MakeGemm},
    OpEntry{"Greater", 2, 2, 1, &MakeGreater},
    OpEntry{"GreaterOrEqual", 2, 2, 1, &MakeGreaterOrEqual},
    OpEntry{"Identity", 1, 1, 1, &MakeIdentity},
    OpEntry{"LeakyRelu", 1, 1, 1, &MakeLeakyRelu},
    OpEntry{"Less", 2, 2, 1, &MakeLess},
    OpEntry{"LessOrEqual", 2, 2, 1, &MakeLessOrEqual},
    OpEntry{"Log", 1, 1, 1, &MakeLog},
    OpEntry{"LogSoftmax", 1, 1, 1, &MakeLogSoftmax},
    OpEntry{"MatMul", 2, 2, 1, &MakeMatMul},
    OpEntry{"Mul", 2, 2, 1, &MakeMul},
    OpEntry{"Neg", 1, 1, 1, &MakeNeg},
    OpEntry{"Pow", 2, 2, 1, &MakePow},
    OpEntry{"ReduceMax", 1, 2, 1, &MakeReduceMax},
    OpEntry{"ReduceMean", 1, 2, 1, &MakeReduceMean},
    OpEntry{"ReduceMin", 1, 2, 1, &MakeReduceMin},
    OpEntry{"ReduceSum", 1, 2, 1, &MakeReduceSum},
    OpEntry{"Relu", 1, 1, 1, &MakeRelu},
    OpEntry{"Reshape", 2, 2, 1, &MakeReshape},
    OpEntry{"Sigmoid", 1, 1, 1, &MakeSigmoid},
    OpEntry{"Softmax", 1, 1, 1, &MakeSoftmax},
    OpEntry{"Sqrt", 1, 1, 1, &MakeSqrt},
    OpEntry{"Squeeze", 1, 2, 1, &MakeSqueeze},
    OpEntry{"Sub", 2, 2, 1, &MakeSub},
    OpEntry{"Tanh", 1, 1, 1, &MakeTanh},
    OpEntry{"Transpose", 1, 1, 1, &MakeTranspose},
    OpEntry{"Unsqueeze", 1, 2, 1, &MakeUnsqueeze},
    OpEntry{"Where", 3, 3, 1, &MakeWhere},
};

// The ai.onnx.ml operators (opsets 1-3), sorted by type.
constexpr std::array kMlOps = {
    OpEntry{"ArrayFeatureExtractor", 2, 2, 1, &MakeArrayFeatureExtractor},
    OpEntry{"Binarizer", 1, 1, 1, &MakeBinarizer},
    OpEntry{"Imputer", 1, 1, 1, &MakeImputer},
    OpEntry{"LinearClassifier", 1, 1, 2, &MakeLinearClassifier},
    OpEntry{"LinearRegressor", 1, 1, 1, &MakeLinearRegressor},
    OpEntry{"Normalizer", 1, 1, 1, &MakeNormalizer},
    OpEntry{"Scaler", 1, 1, 1, &MakeScaler},
    OpEntry{"TreeEnsembleClassifier", 1, 1, 2, &MakeTreeEnsembleClassifier},
    OpEntry{"TreeEnsembleRegressor", 1, 1, 1, &MakeTreeEnsembleRegressor},
    OpEntry{"ZipMap", 1, 1, 1, &MakeZipMap},
};

constexpr bool SortedByType(std::span<const OpEntry> ops) {
  return std::is_sorted(ops.begin(), ops.end(),
                        [](const OpEntry& a, const OpEntry& b) { return a.type < b.type; });
}
static_assert(SortedByType(kOps));
static_assert(SortedByType(kMlOps));

}  // namespace

Result<std::unique_ptr<Op>> CreateOp(const onnx::NodeProto& node, const Opsets& opsets) {
  const bool ml = node.domain() == kMlDomain;
  if (!ml && !node.domain().empty() && node.domain() != "ai.onnx") {
    return Status::InvalidArgument("unsupported operator (domain '" + node.domain() + "')");
  }
  const int64_t opset = ml ? opsets.ml : opsets.onnx;
  if (opset == 0) {
    return Status::InvalidArgument("the model imports no opset for the domain '" +
                                   std::string(ml ? kMlDomain : "ai.onnx") + "'");
  }
  const std::span<const OpEntry> table = ml ? std::span<const OpEntry>(kMlOps) : kOps;
  const auto it =
      std::lower_bound(table.begin(), table.end(), node.op_type(),
                       [](const OpEntry& e, const std::string& type) { return e.type < type; });
  if (it == table.end() || it->type != node.op_type()) {
    return Status::InvalidArgument(ml ? "unsupported operator (domain 'ai.onnx.ml')"
                                      : "unsupported operator");
  }
  // Trailing empty names are absent optional inputs/outputs, as if not listed.
  int inputs = node.input_size();
  while (inputs > 0 && node.input(inputs - 1).empty()) --inputs;
  int outputs = node.output_size();
  while (outputs > 0 && node.output(outputs - 1).empty()) --outputs;
  if (inputs < it->min_inputs || inputs > it->max_inputs) {
    return Status::InvalidArgument(
        "takes " +
        (it->min_inputs == it->max_inputs
             ? std::to_string(it->min_inputs)
             : std::to_string(it->min_inputs) + " to " + std::to_string(it->max_inputs)) +
        " inputs, got " + std::to_string(inputs));
  }
  for (int i = 0; i < it->min_inputs; ++i) {
    if (node.input(i).empty()) {
      return Status::InvalidArgument("input " + std::to_string(i) + " is required");
    }
  }
  if (outputs < 1 || node.output(0).empty()) {
    return Status::InvalidArgument("has no output");
  }
  if (outputs > it->max_outputs) {
    return Status::InvalidArgument("has " + std::to_string(outputs) + " outputs; at most " +
                                   std::to_string(it->max_outputs) + " are supported");
  }
  return it->factory(node, opset);
}

std::vector<std::string> SupportedOps() {
  std::vector<std::string> out;
  for (const OpEntry& e : kOps) out.emplace_back(e.type);
  for (const OpEntry& e : kMlOps) out.push_back(std::string(kMlDomain) + "." + std::string(e.type));
  return out;
}

}  // namespace dim::core
