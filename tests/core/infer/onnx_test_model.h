// Test-only: builds small ONNX models in memory, and helpers to load and run them.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/infer/model.h"
#include "core/matrix.h"
#include "onnx.pb.h"

namespace dim::core::testing {

// A dimension of -1 in Input() is the symbolic batch "N".
inline constexpr int64_t kBatch = -1;

// Fluent wrapper around one NodeProto for setting attributes.
class NodeBuilder {
 public:
  explicit NodeBuilder(onnx::NodeProto* node) : node_(node) {}
  NodeBuilder& Int(const std::string& name, int64_t v) {
    auto* a = Add(name, onnx::AttributeProto::INT);
    a->set_i(v);
    return *this;
  }
  NodeBuilder& Float(const std::string& name, float v) {
    auto* a = Add(name, onnx::AttributeProto::FLOAT);
    a->set_f(v);
    return *this;
  }
  NodeBuilder& Ints(const std::string& name, const std::vector<int64_t>& v) {
    auto* a = Add(name, onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
    return *this;
  }
  NodeBuilder& Floats(const std::string& name, const std::vector<float>& v) {
    auto* a = Add(name, onnx::AttributeProto::FLOATS);
    for (float x : v) a->add_floats(x);
    return *this;
  }
  NodeBuilder& String(const std::string& name, const std::string& v) {
    auto* a = Add(name, onnx::AttributeProto::STRING);
    a->set_s(v);
    return *this;
  }
  NodeBuilder& Strings(const std::string& name, const std::vector<std::string>& v) {
    auto* a = Add(name, onnx::AttributeProto::STRINGS);
    for (const std::string& x : v) a->add_strings(x);
    return *this;
  }
  // The node's domain ("ai.onnx.ml" for the ONNX-ML operators).
  NodeBuilder& Domain(const std::string& domain) {
    node_->set_domain(domain);
    return *this;
  }
  NodeBuilder& Tensor(const std::string& name, const onnx::TensorProto& t) {
    *Add(name, onnx::AttributeProto::TENSOR)->mutable_t() = t;
    return *this;
  }
  onnx::NodeProto& proto() { return *node_; }

 private:
  onnx::AttributeProto* Add(const std::string& name, onnx::AttributeProto::AttributeType type) {
    onnx::AttributeProto* a = node_->add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
  }
  onnx::NodeProto* node_;
};

inline onnx::TensorProto FloatTensor(const std::string& name, const std::vector<int64_t>& dims,
                                     const std::vector<float>& values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  for (float v : values) t.add_float_data(v);
  return t;
}

inline onnx::TensorProto Int64Tensor(const std::string& name, const std::vector<int64_t>& dims,
                                     const std::vector<int64_t>& values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims) t.add_dims(d);
  for (int64_t v : values) t.add_int64_data(v);
  return t;
}

class OnnxModelBuilder {
 public:
  explicit OnnxModelBuilder(int64_t opset = 13) {
    model_.set_ir_version(8);
    model_.set_producer_name("dim-tests");
    onnx::OperatorSetIdProto* id = model_.add_opset_import();
    id->set_domain("");
    id->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }

  OnnxModelBuilder& Input(const std::string& name, const std::vector<int64_t>& dims,
                          int32_t elem_type = onnx::TensorProto::FLOAT) {
    SetValueInfo(model_.mutable_graph()->add_input(), name, dims, elem_type, true);
    return *this;
  }
  // Declares an output without a shape (the engine infers it).
  OnnxModelBuilder& Output(const std::string& name) {
    onnx::ValueInfoProto* v = model_.mutable_graph()->add_output();
    v->set_name(name);
    v->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    return *this;
  }
  OnnxModelBuilder& OutputWithShape(const std::string& name, const std::vector<int64_t>& dims,
                                    int32_t elem_type = onnx::TensorProto::FLOAT) {
    SetValueInfo(model_.mutable_graph()->add_output(), name, dims, elem_type, true);
    return *this;
  }
  OnnxModelBuilder& Initializer(const std::string& name, const std::vector<int64_t>& dims,
                                const std::vector<float>& values) {
    *model_.mutable_graph()->add_initializer() = FloatTensor(name, dims, values);
    return *this;
  }
  // The same stored as raw little-endian bytes, as exporters write it.
  OnnxModelBuilder& RawInitializer(const std::string& name, const std::vector<int64_t>& dims,
                                   const std::vector<float>& values) {
    onnx::TensorProto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(
        std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
    return *this;
  }
  OnnxModelBuilder& Int64Initializer(const std::string& name, const std::vector<int64_t>& dims,
                                     const std::vector<int64_t>& values) {
    *model_.mutable_graph()->add_initializer() = Int64Tensor(name, dims, values);
    return *this;
  }
  NodeBuilder Node(const std::string& op_type, const std::vector<std::string>& inputs,
                   const std::vector<std::string>& outputs, const std::string& name = "") {
    onnx::NodeProto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op_type);
    n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return NodeBuilder(n);
  }

  // Imports the ai.onnx.ml domain at `version`.
  OnnxModelBuilder& ImportOnnxMl(int64_t version = 3) {
    onnx::OperatorSetIdProto* id = model_.add_opset_import();
    id->set_domain("ai.onnx.ml");
    id->set_version(version);
    return *this;
  }

  onnx::ModelProto& proto() { return model_; }
  // The declared tensor type of graph input / output `index`, to change in place.
  onnx::TypeProto::Tensor& InputType(int index = 0) {
    return *model_.mutable_graph()->mutable_input(index)->mutable_type()->mutable_tensor_type();
  }
  onnx::TypeProto::Tensor& OutputType(int index = 0) {
    return *model_.mutable_graph()->mutable_output(index)->mutable_type()->mutable_tensor_type();
  }
  // Dimension `dim` of the declared shape of graph input `index`.
  onnx::TensorShapeProto::Dimension& InputDim(int dim, int index = 0) {
    return *InputType(index).mutable_shape()->mutable_dim(dim);
  }
  std::string Bytes() const { return model_.SerializeAsString(); }
  Result<std::shared_ptr<const Model>> Load(const std::string& name = "test") const {
    return Model::LoadBytes(Bytes(), name);
  }

 private:
  static void SetValueInfo(onnx::ValueInfoProto* v, const std::string& name,
                           const std::vector<int64_t>& dims, int32_t elem_type, bool with_shape) {
    v->set_name(name);
    onnx::TypeProto::Tensor* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(elem_type);
    if (!with_shape) return;
    onnx::TensorShapeProto* shape = t->mutable_shape();
    for (int64_t d : dims) {
      if (d == kBatch) {
        shape->add_dim()->set_dim_param("N");
      } else {
        shape->add_dim()->set_dim_value(d);
      }
    }
  }

  onnx::ModelProto model_;
};

// A rows x cols matrix from values in row-major order.
inline Matrix Rows(int64_t rows, int64_t cols, std::initializer_list<float> values) {
  Matrix m(rows, cols);
  EXPECT_EQ(static_cast<int64_t>(values.size()), rows * cols);
  int64_t i = 0;
  for (float v : values) m.data()[i++] = v;
  return m;
}

// Loads the model (asserting success) and runs it (asserting success).
inline Matrix LoadAndRun(const OnnxModelBuilder& builder, const Matrix& input) {
  Result<std::shared_ptr<const Model>> model = builder.Load();
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return Matrix();
  Result<Matrix> out = (*model)->Run(input);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!out.ok()) return Matrix();
  return *out;
}

// Element-wise comparison with a relative-or-absolute tolerance.
inline ::testing::AssertionResult Near(const Matrix& actual, const Matrix& expected,
                                       float tolerance = 1e-5f) {
  if (actual.rows() != expected.rows() || actual.cols() != expected.cols()) {
    return ::testing::AssertionFailure()
           << "shape " << actual.rows() << "x" << actual.cols() << ", expected " << expected.rows()
           << "x" << expected.cols();
  }
  for (Eigen::Index r = 0; r < actual.rows(); ++r) {
    for (Eigen::Index c = 0; c < actual.cols(); ++c) {
      const float a = actual(r, c);
      const float e = expected(r, c);
      const float scale = std::max(1.0f, std::abs(e));
      if (!(std::abs(a - e) <= tolerance * scale)) {
        return ::testing::AssertionFailure()
               << "at (" << r << "," << c << "): " << a << ", expected " << e;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace dim::core::testing
