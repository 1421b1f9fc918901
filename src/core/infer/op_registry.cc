#include "core/infer/op_registry.h"

#include <algorithm>
#include <array>
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
    OpEntry{"Add", 2, 2, 1, &MakeAdd},
    OpEntry{"ArgMax", 1, 1, 1, &MakeArgMax},
    OpEntry{"BatchNormalization", 5, 5, 5, &MakeBatchNormalization},
    OpEntry{"Cast", 1, 1, 1, &MakeCast},
    OpEntry{"Clip", 1, 3, 1, &MakeClip},
    OpEntry{"Concat", 1, 1 << 16, 1, &MakeConcat},
    OpEntry{"Constant", 0, 0, 1, &MakeConstant},
    OpEntry{"Div", 2, 2, 1, &MakeDiv},
    OpEntry{"Dropout", 1, 3, 2, &MakeDropout},
    OpEntry{"Flatten", 1, 1, 1, &MakeFlatten},
    OpEntry{"Gemm", 2, 3, 1, &MakeGemm},
    OpEntry{"Identity", 1, 1, 1, &MakeIdentity},
    OpEntry{"LeakyRelu", 1, 1, 1, &MakeLeakyRelu},
    OpEntry{"LogSoftmax", 1, 1, 1, &MakeLogSoftmax},
    OpEntry{"MatMul", 2, 2, 1, &MakeMatMul},
    OpEntry{"Mul", 2, 2, 1, &MakeMul},
    OpEntry{"Relu", 1, 1, 1, &MakeRelu},
    OpEntry{"Reshape", 2, 2, 1, &MakeReshape},
    OpEntry{"Sigmoid", 1, 1, 1, &MakeSigmoid},
    OpEntry{"Softmax", 1, 1, 1, &MakeSoftmax},
    OpEntry{"Sub", 2, 2, 1, &MakeSub},
    OpEntry{"Tanh", 1, 1, 1, &MakeTanh},
};

static_assert(std::is_sorted(kOps.begin(), kOps.end(),
                             [](const OpEntry& a, const OpEntry& b) { return a.type < b.type; }));

}  // namespace

Result<std::unique_ptr<Op>> CreateOp(const onnx::NodeProto& node, int64_t opset) {
  if (!node.domain().empty() && node.domain() != "ai.onnx") {
    return Status::InvalidArgument("unsupported operator (domain '" + node.domain() + "')");
  }
  const auto it =
      std::lower_bound(kOps.begin(), kOps.end(), node.op_type(),
                       [](const OpEntry& e, const std::string& type) { return e.type < type; });
  if (it == kOps.end() || it->type != node.op_type()) {
    return Status::InvalidArgument("unsupported operator");
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

std::vector<std::string_view> SupportedOps() {
  std::vector<std::string_view> out;
  for (const OpEntry& e : kOps) out.push_back(e.type);
  return out;
}

}  // namespace dim::core
