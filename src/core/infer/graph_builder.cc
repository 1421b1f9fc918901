#include "core/infer/graph_builder.h"

#include <algorithm>
#include <climits>
#include <functional>
#include <queue>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/infer/op_registry.h"
#include "core/infer/tensor_proto.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

// Opsets whose semantics the operators implement (the spec asks for 9 to 17; the supported
// operators did not change meaning from 7 to 21).
constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 21;

// Values computed at load time (folded) may hold this many floats (64 MiB) plus twice what
// the file stores: folding copies and combines the file's constants, but a few bytes of
// graph (a Concat of a value with itself, repeated) could otherwise make gigabytes.
constexpr int64_t kMinFoldedElements = int64_t{1} << 24;

// The most values per row a model's output may have: a job's batches and summaries hold
// one column each.
constexpr int64_t kMaxOutputWidth = int64_t{1} << 14;

std::string Quote(const std::string& s) { return "'" + s + "'"; }

std::string ElemTypeName(int32_t type) {
  if (onnx::TensorProto::DataType_IsValid(type)) {
    return onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(type));
  }
  return "type " + std::to_string(type);
}

// ai.onnx.ml opsets whose operators are implemented (1 to 3: v3 added only the *_as_tensor
// attributes, which are refused by name).
constexpr int64_t kMaxMlOpset = 3;

// The opsets of the default domain and of ai.onnx.ml. A model made of ai.onnx.ml nodes
// only may import no default opset; one with default-domain nodes then fails at the node.
Result<Opsets> ImportedOpsets(const onnx::ModelProto& model) {
  Opsets opsets;
  for (const onnx::OperatorSetIdProto& id : model.opset_import()) {
    if (id.domain().empty() || id.domain() == "ai.onnx") {
      if (id.version() < kMinOpset || id.version() > kMaxOpset) {
        return Status::InvalidArgument("opset " + std::to_string(id.version()) +
                                       " is not supported (" + std::to_string(kMinOpset) + " to " +
                                       std::to_string(kMaxOpset) + " are)");
      }
      opsets.onnx = id.version();
    } else if (id.domain() == kMlDomain) {
      if (id.version() < 1 || id.version() > kMaxMlOpset) {
        return Status::InvalidArgument("ai.onnx.ml opset " + std::to_string(id.version()) +
                                       " is not supported (1 to " + std::to_string(kMaxMlOpset) +
                                       " are)");
      }
      opsets.ml = id.version();
    }
  }
  if (opsets.onnx == 0 && opsets.ml == 0) {
    return Status::InvalidArgument("no opset is imported for the default ONNX domain");
  }
  return opsets;
}

// The model's input: float32, the first dimension is the batch, the others known.
Result<Shape> InputShape(const onnx::ValueInfoProto& input) {
  const std::string what = "input " + Quote(input.name());
  if (!input.has_type() || !input.type().has_tensor_type()) {
    return Status::InvalidArgument(what + " is not a tensor");
  }
  const onnx::TypeProto::Tensor& tensor = input.type().tensor_type();
  if (tensor.elem_type() != onnx::TensorProto::FLOAT) {
    return Status::InvalidArgument(what + " has type " + ElemTypeName(tensor.elem_type()) +
                                   "; only float32 is supported");
  }
  if (!tensor.has_shape() || tensor.shape().dim_size() == 0) {
    return Status::InvalidArgument(what + " has no shape; its first dimension must be the batch");
  }
  Shape shape;
  for (int i = 0; i < tensor.shape().dim_size(); ++i) {
    const onnx::TensorShapeProto::Dimension& dim = tensor.shape().dim(i);
    if (i == 0) {
      if (dim.has_dim_value() && dim.dim_value() < 0) {
        return Status::InvalidArgument(what + " has a negative batch dimension");
      }
      shape.push_back(Dim::Batch());  // Fixed or not, the first dimension is the batch.
      continue;
    }
    if (!dim.has_dim_value()) {
      return Status::InvalidArgument(
          what + " has an unknown dimension " + std::to_string(i) +
          (dim.has_dim_param() ? " (" + Quote(dim.dim_param()) + ")" : "") +
          "; only the first (batch) dimension may be unknown");
    }
    if (dim.dim_value() <= 0 || dim.dim_value() > kMaxDimension) {
      return Status::InvalidArgument(what + " has an invalid dimension " + std::to_string(i) +
                                     " (" + std::to_string(dim.dim_value()) + ")");
    }
    shape.push_back(Dim::Known(dim.dim_value()));
  }
  DIM_ASSIGN_OR_RETURN(const Dim width, DimProduct(shape, 1, shape.size()));
  if (width.factor > kMaxValueElements) {
    return Status::InvalidArgument(what + " of shape " + ShapeToString(shape) + " is too large");
  }
  return shape;
}

class GraphBuilder final {
 public:
  GraphBuilder(const onnx::GraphProto& graph, Opsets opsets) : graph_(graph), opsets_(opsets) {}

  Result<std::unique_ptr<Graph>> Build() {
    DIM_RETURN_IF_ERROR(ReadInitializers());
    DIM_RETURN_IF_ERROR(ReadInput());
    if (graph_.output_size() == 0) return Status::InvalidArgument("the graph has no outputs");
    DIM_RETURN_IF_ERROR(CreateOps());
    DIM_RETURN_IF_ERROR(LinkNodes());
    DIM_RETURN_IF_ERROR(SortNodes());
    DIM_RETURN_IF_ERROR(InferNodes());
    DIM_RETURN_IF_ERROR(CheckOutputs());
    return MakePlan();
  }

 private:
  std::string Label(int node) const {
    const onnx::NodeProto& n = graph_.node(node);
    const std::string who = n.name().empty() ? "#" + std::to_string(node) : Quote(n.name());
    return "node " + who + " (" + n.op_type() + ")";
  }

  Status ReadInitializers() {
    if (graph_.sparse_initializer_size() > 0) {
      return Status::InvalidArgument("sparse initializers are not supported");
    }
    for (const onnx::TensorProto& init : graph_.initializer()) {
      if (init.name().empty()) return Status::InvalidArgument("an initializer has no name");
      Result<ValueInfo> value = DecodeTensorProto(init);
      if (!value.ok()) return value.status().WithPrefix("initializer " + Quote(init.name()));
      stored_elements_ += ConstantElements(*value);
      if (!values_.emplace(init.name(), std::move(*value)).second) {
        return Status::InvalidArgument("initializer " + Quote(init.name()) + " is defined twice");
      }
    }
    return Status::Ok();
  }

  Status ReadInput() {
    std::vector<const onnx::ValueInfoProto*> inputs;
    for (const onnx::ValueInfoProto& input : graph_.input()) {
      // Before IR version 4 initializers were listed among the inputs too.
      if (values_.count(input.name()) == 0) inputs.push_back(&input);
    }
    if (inputs.empty()) return Status::InvalidArgument("the graph has no inputs");
    if (inputs.size() > 1) {
      std::string names;
      for (const onnx::ValueInfoProto* input : inputs) {
        names += (names.empty() ? "" : ", ") + Quote(input->name());
      }
      return Status::InvalidArgument("the graph has " + std::to_string(inputs.size()) +
                                     " inputs (" + names + "); exactly one is supported");
    }
    const onnx::ValueInfoProto& input = *inputs[0];
    if (input.name().empty()) return Status::InvalidArgument("the graph input has no name");
    DIM_ASSIGN_OR_RETURN(input_shape_, InputShape(input));
    input_name_ = input.name();
    ValueInfo info = FloatValue(input_shape_);
    info.name = input_name_;
    values_.emplace(input_name_, std::move(info));
    return Status::Ok();
  }

  // Every node: a supported operator with valid attributes, outputs defined once.
  Status CreateOps() {
    for (int i = 0; i < graph_.node_size(); ++i) {
      const onnx::NodeProto& node = graph_.node(i);
      Result<std::unique_ptr<Op>> op = CreateOp(node, opsets_);
      if (!op.ok()) return op.status().WithPrefix(Label(i));
      ops_.push_back(std::move(*op));
      for (const std::string& out : node.output()) {
        if (out.empty()) continue;
        if (values_.count(out) > 0 || !producer_.emplace(out, i).second) {
          return Status::InvalidArgument(Label(i) + ": output " + Quote(out) +
                                         " is already defined");
        }
      }
    }
    return Status::Ok();
  }

  // Every input exists; records which nodes read which.
  Status LinkNodes() {
    users_.assign(static_cast<size_t>(graph_.node_size()), {});
    pending_.assign(static_cast<size_t>(graph_.node_size()), 0);
    for (int i = 0; i < graph_.node_size(); ++i) {
      for (const std::string& in : graph_.node(i).input()) {
        if (in.empty() || values_.count(in) > 0) continue;
        const auto it = producer_.find(in);
        if (it == producer_.end()) {
          return Status::InvalidArgument(Label(i) + ": input " + Quote(in) +
                                         " has no initializer or producer");
        }
        users_[static_cast<size_t>(it->second)].push_back(i);
        ++pending_[static_cast<size_t>(i)];
      }
    }
    return Status::Ok();
  }

  // Kahn's algorithm, taking ready nodes in file order; what is left is a cycle.
  Status SortNodes() {
    std::priority_queue<int, std::vector<int>, std::greater<>> ready;
    for (int i = 0; i < graph_.node_size(); ++i) {
      if (pending_[static_cast<size_t>(i)] == 0) ready.push(i);
    }
    while (!ready.empty()) {
      const int n = ready.top();
      ready.pop();
      order_.push_back(n);
      for (int user : users_[static_cast<size_t>(n)]) {
        if (--pending_[static_cast<size_t>(user)] == 0) ready.push(user);
      }
    }
    if (order_.size() == static_cast<size_t>(graph_.node_size())) return Status::Ok();
    for (int i = 0; i < graph_.node_size(); ++i) {
      if (pending_[static_cast<size_t>(i)] == 0) continue;
      for (const std::string& in : graph_.node(i).input()) {
        const auto it = producer_.find(in);
        if (it != producer_.end() && pending_[static_cast<size_t>(it->second)] > 0) {
          return Status::InvalidArgument(Label(i) + ": input " + Quote(in) +
                                         " depends on the node's own output (a cycle)");
        }
      }
    }
    return Status::InvalidArgument("the graph has a cycle");
  }

  // Types and shapes, node by node; nodes whose inputs are all constant are run now.
  Status InferNodes() {
    folded_.assign(static_cast<size_t>(graph_.node_size()), false);
    for (int n : order_) {
      const onnx::NodeProto& node = graph_.node(n);
      std::vector<ValueInfo> inputs;
      bool all_constant = true;
      const bool numeric_constants = ops_[static_cast<size_t>(n)]->ReadsInt64ConstantsAsValues();
      for (const std::string& in : node.input()) {
        ValueInfo info;
        if (!in.empty()) {
          if (numeric_constants) DIM_RETURN_IF_ERROR(HoldInFloats(n, in));
          info = values_.at(in);
          info.name = in;
          all_constant = all_constant && info.is_constant();
        }
        inputs.push_back(std::move(info));
      }
      Op& op = *ops_[static_cast<size_t>(n)];
      Result<std::vector<ValueInfo>> outputs = op.Infer(inputs);
      if (!outputs.ok()) return outputs.status().WithPrefix(Label(n));
      if (outputs->empty()) return Status::Internal(Label(n) + ": no outputs inferred");
      bool outputs_constant = true;
      bool outputs_float = true;
      for (int j = 0; j < node.output_size(); ++j) {
        if (node.output(j).empty()) continue;
        if (static_cast<size_t>(j) >= outputs->size()) {
          return Status::InvalidArgument(Label(n) + ": output " + Quote(node.output(j)) +
                                         " is not supported");
        }
        const ValueInfo& out = (*outputs)[static_cast<size_t>(j)];
        DIM_RETURN_IF_ERROR(CheckSize(n, node.output(j), out.shape));
        outputs_constant = outputs_constant && out.is_constant();
        outputs_float = outputs_float && out.type == DType::kFloat;
      }
      if (!outputs_constant && all_constant && outputs_float) {
        DIM_RETURN_IF_ERROR(CountFolded(n, *outputs));
        DIM_RETURN_IF_ERROR(Fold(n, inputs, *outputs));
        outputs_constant = true;
      } else if (outputs_constant && node.input_size() == 0) {
        for (const ValueInfo& out : *outputs) stored_elements_ += ConstantElements(out);
      }
      folded_[static_cast<size_t>(n)] = outputs_constant;
      for (int j = 0; j < node.output_size(); ++j) {
        if (node.output(j).empty()) continue;
        ValueInfo out = std::move((*outputs)[static_cast<size_t>(j)]);
        out.name = node.output(j);
        values_[node.output(j)] = std::move(out);
      }
    }
    return Status::Ok();
  }

  // Gives int64 constant `name` its float form too (exact up to 2^24), for the run time.
  Status HoldInFloats(int n, const std::string& name) {
    ValueInfo& info = values_.at(name);
    if (info.ints == nullptr || info.constant != nullptr) return Status::Ok();
    constexpr int64_t kExact = int64_t{1} << 24;
    std::vector<float> floats;
    for (int64_t v : *info.ints) {
      if (v > kExact || v < -kExact) {
        return Status::InvalidArgument(Label(n) + ": int64 constant " + Quote(name) + " holds " +
                                       std::to_string(v) +
                                       ", beyond 2^24, which values here "
                                       "cannot be");
      }
      floats.push_back(static_cast<float>(v));
    }
    info.constant = std::make_shared<const Tensor>(
        Tensor::FromData(ResolveShape(info.shape, 1), floats.data()));
    return Status::Ok();
  }

  // A value's shape must not hold N^2 or more than kMaxValueElements elements per row.
  Status CheckSize(int n, const std::string& name, const Shape& shape) const {
    Result<Dim> size = DimProduct(shape, 0, shape.size());
    if (!size.ok()) return size.status().WithPrefix(Label(n) + ": output " + Quote(name));
    if (size->factor > kMaxValueElements) {
      return Status::InvalidArgument(Label(n) + ": output " + Quote(name) + " of shape " +
                                     ShapeToString(shape) + " is too large");
    }
    return Status::Ok();
  }

  static int64_t ConstantElements(const ValueInfo& value) {
    if (value.constant != nullptr) return value.constant->size();
    return value.ints != nullptr ? static_cast<int64_t>(value.ints->size()) : 0;
  }

  // Adds the outputs node n would fold to folded_elements_, before they are computed;
  // INVALID_ARGUMENT past the budget (kMinFoldedElements).
  Status CountFolded(int n, const std::vector<ValueInfo>& outputs) {
    for (const ValueInfo& out : outputs) {
      Result<Dim> size = DimProduct(out.shape, 0, out.shape.size());
      if (!size.ok()) return size.status().WithPrefix(Label(n));
      folded_elements_ += size->factor;
    }
    if (folded_elements_ > kMinFoldedElements + 2 * stored_elements_) {
      return Status::InvalidArgument(
          Label(n) + ": the values computed at load time would hold more than " +
          std::to_string(kMinFoldedElements + 2 * stored_elements_) + " floats");
    }
    return Status::Ok();
  }

  // Runs node n on its constant inputs and stores its outputs as constants in `outputs`.
  Status Fold(int n, const std::vector<ValueInfo>& inputs, std::vector<ValueInfo>& outputs) {
    std::vector<const Tensor*> tensors;
    for (const ValueInfo& in : inputs) tensors.push_back(in.constant.get());
    const std::vector<Tensor*> movable(tensors.size(), nullptr);
    std::vector<Tensor> results(outputs.size());
    KernelInputs kernel_inputs(tensors, movable);
    const Status status = ops_[static_cast<size_t>(n)]->Run(kernel_inputs, results);
    if (!status.ok()) return status.WithPrefix(Label(n));
    for (size_t j = 0; j < outputs.size(); ++j) {
      outputs[j].constant = std::make_shared<const Tensor>(std::move(results[j]));
    }
    return Status::Ok();
  }

  static bool BatchFirst(const Shape& shape) {
    bool batch_first = !shape.empty() && shape[0] == Dim::Batch();
    for (size_t i = 1; i < shape.size(); ++i) batch_first = batch_first && shape[i].known();
    return batch_first;
  }

  // A classifier's label output: int64 (or string, which is not computed), [N] or [N,1].
  bool IsLabel(const ValueInfo& value) const {
    return (value.type == DType::kInt64 || value.type == DType::kString) && !value.is_constant() &&
           BatchFirst(value.shape) &&
           (value.shape.size() == 1 || (value.shape.size() == 2 && value.shape[1].IsOne()));
  }

  // The model's output is the first graph output, except for a classifier whose first
  // output is its label (int64) and a later one its scores (float): the scores are then
  // the output and the label is computed beside them.
  Status CheckOutputs() {
    for (const onnx::ValueInfoProto& out : graph_.output()) {
      if (values_.count(out.name()) == 0) {
        return Status::InvalidArgument("output " + Quote(out.name()) + " has no producer");
      }
    }
    int chosen = 0;
    if (IsLabel(values_.at(graph_.output(0).name()))) {
      for (int i = 1; i < graph_.output_size(); ++i) {
        const ValueInfo& out = values_.at(graph_.output(i).name());
        if (out.type == DType::kFloat && !out.is_constant() && BatchFirst(out.shape)) {
          chosen = i;
          // String labels are not computed: the classes are counted from the scores.
          if (values_.at(graph_.output(0).name()).type == DType::kInt64) {
            label_name_ = graph_.output(0).name();
          }
          break;
        }
      }
    }
    const onnx::ValueInfoProto& declared = graph_.output(chosen);
    const ValueInfo& out = values_.at(declared.name());
    const std::string what = "output " + Quote(declared.name());
    if (out.is_constant()) {
      return Status::InvalidArgument(what + " is a constant; it must depend on the input");
    }
    if (out.type != DType::kFloat && out.type != DType::kInt64 && out.type != DType::kBool) {
      return Status::InvalidArgument(what + " is " + std::string(DTypeName(out.type)) +
                                     "; only float32 is supported");
    }
    const Shape& shape = out.shape;
    if (!BatchFirst(shape)) {
      return Status::InvalidArgument(what + " has shape " + ShapeToString(shape) +
                                     "; its first dimension must be the batch and the others "
                                     "known");
    }
    // A ZipMap's output is declared as a sequence of maps; the engine reads it as the
    // probability tensor it is made from, so only tensor declarations are compared.
    if (declared.has_type() && declared.type().has_tensor_type()) {
      const onnx::TypeProto::Tensor& tensor = declared.type().tensor_type();
      const int32_t expected = out.type == DType::kFloat   ? onnx::TensorProto::FLOAT
                               : out.type == DType::kInt64 ? onnx::TensorProto::INT64
                                                           : onnx::TensorProto::BOOL;
      if (tensor.elem_type() != onnx::TensorProto::UNDEFINED && tensor.elem_type() != expected) {
        return Status::InvalidArgument(what + " is declared as " +
                                       ElemTypeName(tensor.elem_type()) + " but computes " +
                                       ElemTypeName(expected));
      }
      if (tensor.has_shape()) {
        bool agrees = tensor.shape().dim_size() == static_cast<int>(shape.size());
        for (int i = 1; agrees && i < tensor.shape().dim_size(); ++i) {
          const auto& dim = tensor.shape().dim(i);
          agrees = !dim.has_dim_value() || dim.dim_value() == shape[static_cast<size_t>(i)].factor;
        }
        if (!agrees) {
          return Status::InvalidArgument(what + " is declared with another shape than the " +
                                         ShapeToString(shape) + " it computes");
        }
      }
    }
    DIM_ASSIGN_OR_RETURN(const Dim width, DimProduct(shape, 1, shape.size()));
    if (width.factor > kMaxOutputWidth) {
      return Status::InvalidArgument(what + " has " + std::to_string(width.factor) +
                                     " values per row; at most " + std::to_string(kMaxOutputWidth) +
                                     " are supported");
    }
    output_name_ = declared.name();
    output_shape_ = shape;
    return Status::Ok();
  }

  // Keeps the nodes the output (and the labels) need, in order, and plans each value's
  // lifetime.
  std::unique_ptr<Graph> MakePlan() {
    const size_t node_count = static_cast<size_t>(graph_.node_size());
    std::vector<bool> needed(node_count, false);
    std::vector<std::string> stack = {output_name_};
    std::unordered_set<std::string> runtime_reads = {output_name_};
    if (!label_name_.empty()) {
      stack.push_back(label_name_);
      runtime_reads.insert(label_name_);
    }
    while (!stack.empty()) {
      const std::string name = std::move(stack.back());
      stack.pop_back();
      const auto it = producer_.find(name);
      if (it == producer_.end() || folded_[static_cast<size_t>(it->second)] ||
          needed[static_cast<size_t>(it->second)]) {
        continue;
      }
      needed[static_cast<size_t>(it->second)] = true;
      for (const std::string& in : graph_.node(it->second).input()) {
        if (in.empty() || !IsRuntimeValue(in)) continue;
        runtime_reads.insert(in);
        stack.push_back(in);
      }
    }

    Graph::Plan plan;
    plan.input_shape = input_shape_;
    plan.output_shape = output_shape_;
    std::unordered_map<std::string, int> value_index = {{input_name_, 0}};
    std::unordered_map<std::string, int> constant_index;
    plan.num_values = 1;
    for (int n : order_) {
      if (!needed[static_cast<size_t>(n)]) continue;
      const onnx::NodeProto& node = graph_.node(n);
      Graph::Step step;
      step.op = std::move(ops_[static_cast<size_t>(n)]);
      step.label = Label(n);
      for (const std::string& in : node.input()) {
        Graph::Source src;
        if (!in.empty()) {
          const ValueInfo& info = values_.at(in);
          if (info.constant != nullptr) {
            const auto [it, added] =
                constant_index.emplace(in, static_cast<int>(plan.constants.size()));
            if (added) plan.constants.push_back(info.constant);
            src = {Graph::Source::Kind::kConstant, it->second};
          } else if (IsRuntimeValue(in)) {
            src = {Graph::Source::Kind::kValue, value_index.at(in)};
          }
        }
        step.inputs.push_back(src);
      }
      for (const std::string& out : node.output()) {
        int index = -1;
        if (!out.empty() && runtime_reads.count(out) > 0) {
          index = plan.num_values++;
          value_index[out] = index;
        }
        step.outputs.push_back(index);
      }
      plan.steps.push_back(std::move(step));
    }
    plan.output_value = value_index.at(output_name_);
    if (!label_name_.empty()) plan.label_value = value_index.at(label_name_);
    plan.value_shapes.resize(static_cast<size_t>(plan.num_values));
    for (const auto& [name, index] : value_index) {
      plan.value_shapes[static_cast<size_t>(index)] = values_.at(name).shape;
    }
    plan.rows_independent = true;
    for (const Graph::Step& step : plan.steps) {
      plan.rows_independent = plan.rows_independent && !step.op->MixesRows();
    }
    for (const auto& [name, index] : value_index) {
      plan.rows_independent = plan.rows_independent && BatchFirst(values_.at(name).shape);
    }

    // Lifetimes: a value dies after its last reader, which may then take it over.
    std::vector<int> last_read(static_cast<size_t>(plan.num_values), -1);
    for (size_t s = 0; s < plan.steps.size(); ++s) {
      for (const Graph::Source& src : plan.steps[s].inputs) {
        if (src.kind == Graph::Source::Kind::kValue) {
          last_read[static_cast<size_t>(src.index)] = static_cast<int>(s);
        }
      }
    }
    last_read[static_cast<size_t>(plan.output_value)] = INT_MAX;
    if (plan.label_value >= 0) last_read[static_cast<size_t>(plan.label_value)] = INT_MAX;
    for (size_t s = 0; s < plan.steps.size(); ++s) {
      Graph::Step& step = plan.steps[s];
      step.movable.assign(step.inputs.size(), false);
      for (size_t i = 0; i < step.inputs.size(); ++i) {
        const Graph::Source& src = step.inputs[i];
        if (src.kind != Graph::Source::Kind::kValue) continue;
        int reads = 0;
        for (const Graph::Source& other : step.inputs) {
          reads += other.kind == src.kind && other.index == src.index ? 1 : 0;
        }
        const bool last = last_read[static_cast<size_t>(src.index)] == static_cast<int>(s);
        step.movable[i] = last && reads == 1;
        if (last &&
            std::find(step.release.begin(), step.release.end(), src.index) == step.release.end()) {
          step.release.push_back(src.index);
        }
      }
    }
    return std::make_unique<Graph>(std::move(plan));
  }

  // Whether `name` holds a tensor at run time (not a constant nor a load-time-only value).
  bool IsRuntimeValue(const std::string& name) const {
    const ValueInfo& info = values_.at(name);
    return !info.is_constant() &&
           (info.type == DType::kFloat || info.type == DType::kInt64 || info.type == DType::kBool);
  }

  const onnx::GraphProto& graph_;
  const Opsets opsets_;
  std::unordered_map<std::string, ValueInfo> values_;  // Every value defined so far.
  std::unordered_map<std::string, int> producer_;      // Node output -> node.
  std::string input_name_;
  Shape input_shape_;
  std::string output_name_;
  Shape output_shape_;
  std::string label_name_;                // A classifier's label output, when it has one.
  std::vector<std::unique_ptr<Op>> ops_;  // Per node.
  std::vector<std::vector<int>> users_;   // Per node: the nodes reading its outputs.
  std::vector<int> pending_;              // Per node: inputs not yet produced.
  std::vector<int> order_;                // Nodes in execution order.
  std::vector<bool> folded_;              // Per node: its outputs are constants.
  int64_t stored_elements_ = 0;  // Constant values the file holds (initializers, Constant).
  int64_t folded_elements_ = 0;  // Values computed at load time so far.
};

}  // namespace

Result<std::unique_ptr<Graph>> BuildGraph(const onnx::ModelProto& model) {
  DIM_ASSIGN_OR_RETURN(const Opsets opsets, ImportedOpsets(model));
  GraphBuilder builder(model.graph(), opsets);
  return builder.Build();
}

}  // namespace dim::core
