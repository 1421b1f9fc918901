// The validated, executable form of an ONNX graph: the nodes the model's output (and a
// classifier's labels) need, in execution order, with constants resolved and value
// lifetimes planned.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/infer/op.h"
#include "core/infer/shape.h"
#include "core/infer/tensor.h"
#include "core/status.h"

namespace dim::core {

// Built by BuildGraph (graph_builder.h), which checks everything a Plan relies on.
//
// Thread-safety: immutable; Run may be called from many threads at once. Each call owns
// its intermediate tensors, and frees each one after its last reader.
class Graph final {
 public:
  // Where a node's input comes from at run time.
  struct Source {
    enum class Kind { kAbsent, kConstant, kValue };
    Kind kind = Kind::kAbsent;  // kAbsent also for load-time-only inputs (int64 shapes).
    int index = -1;             // Into constants or the per-call values.
  };

  struct Step {
    std::unique_ptr<Op> op;
    std::string label;           // "node 'fc1' (Gemm)", for messages.
    std::vector<Source> inputs;  // One per ONNX input, absent ones included.
    std::vector<bool> movable;   // Per input: the value's last reader, read once here.
    std::vector<int> outputs;    // Value per ONNX output; -1 when nothing reads it.
    std::vector<int> release;    // Values to free once this step is done.
  };

  struct Plan {
    Shape input_shape;   // Dimension 0 is the batch.
    Shape output_shape;  // Dimension 0 is the batch.
    int num_values = 0;  // Values computed per call; value 0 is the graph input.
    int output_value = 0;
    // A classifier's predicted labels (int64 [N] or [N,1], carried as floats), computed
    // beside output_value when the graph's first output is the label and a later one the
    // scores (graph_builder.h); -1 when there is none.
    int label_value = -1;
    // Per value: its shape, whose batch dimensions resolve (ResolveShape) to the shape
    // of the tensor that Run computes for a batch of that many rows.
    std::vector<Shape> value_shapes;
    std::vector<std::shared_ptr<const Tensor>> constants;
    std::vector<Step> steps;
    // Every value is [N, known...] and no operator mixes rows, so row r of the output
    // depends on row r of the input only and a batch may run in slices.
    bool rows_independent = false;
  };

  explicit Graph(Plan plan) : plan_(std::move(plan)) {}

  const Shape& input_shape() const { return plan_.input_shape; }
  const Shape& output_shape() const { return plan_.output_shape; }
  bool rows_independent() const { return plan_.rows_independent; }
  // What other backends (infer/cuda/) execute.
  const Plan& plan() const { return plan_; }

  bool has_labels() const { return plan_.label_value >= 0; }

  // Runs the graph on `input`, whose shape is input_shape() with the batch resolved, and
  // returns the model's output; with `labels` non-null and has_labels(), also sets it to
  // the labels. Errors are INTERNAL: the builder has checked every shape, so a failing
  // kernel is a bug, reported rather than crashed on.
  Result<Tensor> Run(Tensor input, Tensor* labels = nullptr) const;

 private:
  Plan plan_;
};

}  // namespace dim::core
