// Shapes known at load time, where the batch size N is not: each dimension is
// factor * N^power with power 0 (a known size) or 1 (a multiple of the batch size).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace dim::core {

// The largest number of elements a load-time dimension or a per-batch-row product may
// have. Keeps every size computation far from int64 overflow, whatever a file declares.
inline constexpr int64_t kMaxDimension = int64_t{1} << 40;

// The most elements a value computed by the graph may have per batch row (a constant: in
// all), 1 GiB of floats: guards against shapes that broadcast small constants into
// something no machine can hold.
inline constexpr int64_t kMaxValueElements = int64_t{1} << 28;

// One dimension: factor * N^power.
struct Dim final {
  int64_t factor = 1;
  int power = 0;  // 0: a known size; 1: factor times the batch size.

  static Dim Known(int64_t size) { return {size, 0}; }
  static Dim Batch() { return {1, 1}; }

  bool known() const { return power == 0; }
  bool IsOne() const { return power == 0 && factor == 1; }
  // The concrete size for a batch of `rows`.
  int64_t Resolve(int64_t rows) const { return power == 0 ? factor : factor * rows; }

  friend bool operator==(const Dim&, const Dim&) = default;
};

using Shape = std::vector<Dim>;

// "4", "N", "2N".
std::string DimToString(const Dim& dim);
// "[N,4]"; "[]" for a scalar.
std::string ShapeToString(const Shape& shape);

// The product of dims[begin, end); INVALID_ARGUMENT when it would be a power of N above
// one or exceed kMaxDimension.
Result<Dim> DimProduct(const Shape& shape, size_t begin, size_t end);

// a / b when it is exact (a factor and a power of N); nullopt otherwise.
std::optional<Dim> DimQuotient(const Dim& a, const Dim& b);

// The ONNX multidirectional (numpy) broadcast of a and b; INVALID_ARGUMENT naming both
// shapes when they are incompatible.
Result<Shape> BroadcastShapes(const Shape& a, const Shape& b);

// Whether `from` broadcasts to `to` without changing `to` (ONNX unidirectional broadcast).
bool BroadcastsTo(const Shape& from, const Shape& to);

// The concrete shape for a batch of `rows`.
std::vector<int64_t> ResolveShape(const Shape& shape, int64_t rows);

// Normalises an ONNX axis in [-rank, rank) (or [-rank, rank] when `inclusive`) to
// [0, rank); INVALID_ARGUMENT otherwise.
Result<int64_t> NormalizeAxis(int64_t axis, int64_t rank, bool inclusive = false);

}  // namespace dim::core
