// The interface every operator implements, and what it sees at load time and at run time.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/infer/op_spec.h"
#include "core/infer/tensor.h"
#include "core/infer/value_info.h"
#include "core/status.h"

namespace onnx {
class NodeProto;
}  // namespace onnx

namespace dim::core {

// The inputs of one node while the graph runs. An input is either borrowed (a constant,
// or a value that later nodes still read) or, at its last use, available to be moved from
// so element-wise kernels can work in place.
class KernelInputs final {
 public:
  // `tensors[i]` is null for an absent optional input; `movable[i]` is non-null when the
  // tensor may be moved from (it then points at the same tensor as `tensors[i]`).
  KernelInputs(std::span<const Tensor* const> tensors, std::span<Tensor* const> movable)
      : tensors_(tensors), movable_(movable) {}

  size_t size() const { return tensors_.size(); }
  bool present(size_t i) const { return i < tensors_.size() && tensors_[i] != nullptr; }
  const Tensor& operator[](size_t i) const { return *tensors_[i]; }
  // Whether Take(i) moves rather than copies.
  bool movable(size_t i) const { return movable_[i] != nullptr; }
  // The tensor itself when it may be moved from, a copy otherwise. Input i must not be
  // read through operator[] afterwards.
  Tensor Take(size_t i) {
    if (movable_[i] != nullptr) return std::move(*movable_[i]);
    return tensors_[i]->Clone();
  }

 private:
  std::span<const Tensor* const> tensors_;
  std::span<Tensor* const> movable_;
};

// One ONNX node's operator. Created by the registry (op_registry.h) from the node and the
// model's opset, then Infer is called exactly once, then Run any number of times.
//
// Thread-safety: after Infer, an Op is immutable and Run may be called concurrently.
class Op {
 public:
  virtual ~Op() = default;

  // Checks the inputs (types, shapes, constants where the operator needs them) and returns
  // one ValueInfo per output the operator produces (at least one). An output that Infer
  // returns with a constant or ints set is folded at load time and never run. Errors are
  // INVALID_ARGUMENT with a message that the caller prefixes with the node.
  [[nodiscard]] virtual Result<std::vector<ValueInfo>> Infer(
      const std::vector<ValueInfo>& inputs) = 0;

  // Computes the outputs Infer promised from inputs of the shapes Infer accepted (with the
  // batch size resolved). Only outputs[0] is needed by callers that ignore optional
  // outputs; every returned Status other than OK is a bug (INTERNAL).
  [[nodiscard]] virtual Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const = 0;

  // Whether an output row may depend on other rows of the batch even though every value
  // keeps the batch as its first dimension (a Softmax over axis 0 does). Valid after Infer.
  virtual bool MixesRows() const { return false; }

  // Whether the op reads int64 constant inputs as values at run time (a label compared
  // with a class id, an integer exponent) rather than as load-time parameters: the graph
  // builder then gives them a float form first (exact up to 2^24). Called before Infer.
  virtual bool ReadsInt64ConstantsAsValues() const { return false; }

  // What the op computes, for backends other than the CPU (op_spec.h); kOther, the
  // default, makes them run this op's Run on the CPU. Valid after Infer.
  virtual OpSpec spec() const { return {}; }
};

// An operator whose first output is its first input, data and shape alike (Identity,
// Dropout, ZipMap): it hands the tensor on, and every backend runs it as a reshape.
class PassThroughOp : public Op {
 public:
  [[nodiscard]] Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override;
  OpSpec spec() const override;
};

// An operator whose output is its input's data under another shape (Flatten, Reshape,
// Squeeze, Unsqueeze): Infer computes the shape with the batch symbolic, Reshaped the
// concrete one; every backend runs it as a reshape.
class ReshapeOp : public Op {
 public:
  [[nodiscard]] Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override;
  OpSpec spec() const override;

 protected:
  // The output's dimensions for an input of dimensions `x` (the same element count).
  virtual std::vector<int64_t> Reshaped(const std::vector<int64_t>& x) const = 0;
};

// INVALID_ARGUMENT unless inputs[i] is present and float32.
[[nodiscard]] Status RequireFloat(const std::vector<ValueInfo>& inputs, size_t i);

// INVALID_ARGUMENT unless inputs[i] is present and held in float storage at run time:
// float32, or an int64 or bool value computed by the graph, or a constant with a float form
// (int64 constants have one only for ops that ReadsInt64ConstantsAsValues()).
[[nodiscard]] Status RequireNumeric(const std::vector<ValueInfo>& inputs, size_t i);

// INVALID_ARGUMENT unless inputs[i], when present, is a float32 constant holding one value;
// `*value` is set to it then.
[[nodiscard]] Status ReadScalarConstant(const std::vector<ValueInfo>& inputs, size_t i,
                                        float* value);

// A ValueInfo for a float value computed at run time.
ValueInfo FloatValue(Shape shape);

}  // namespace dim::core
