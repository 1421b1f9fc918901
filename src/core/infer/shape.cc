#include "core/infer/shape.h"

#include <algorithm>

namespace dim::core {

std::string DimToString(const Dim& dim) {
  if (dim.power == 0) return std::to_string(dim.factor);
  std::string out;
  if (dim.factor != 1) out.append(std::to_string(dim.factor));
  out.push_back('N');
  for (int i = 1; i < dim.power; ++i) out.append("*N");
  return out;
}

std::string ShapeToString(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ',';
    out += DimToString(shape[i]);
  }
  out += ']';
  return out;
}

Result<Dim> DimProduct(const Shape& shape, size_t begin, size_t end) {
  Dim out = Dim::Known(1);
  for (size_t i = begin; i < end && i < shape.size(); ++i) {
    const Dim& d = shape[i];
    if (d.factor == 0) return Dim::Known(0);
    if (out.factor > kMaxDimension / d.factor) {
      return Status::InvalidArgument("shape " + ShapeToString(shape) + " is too large");
    }
    out.factor *= d.factor;
    out.power += d.power;
  }
  if (out.power > 1) {
    return Status::InvalidArgument("shape " + ShapeToString(shape) +
                                   " would multiply the batch size by itself");
  }
  return out;
}

std::optional<Dim> DimQuotient(const Dim& a, const Dim& b) {
  if (b.factor == 0 || a.power < b.power || a.factor % b.factor != 0) return std::nullopt;
  return Dim{a.factor / b.factor, a.power - b.power};
}

Result<Shape> BroadcastShapes(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right: missing leading dimensions count as 1.
    const Dim da = i + a.size() >= rank ? a[i + a.size() - rank] : Dim::Known(1);
    const Dim db = i + b.size() >= rank ? b[i + b.size() - rank] : Dim::Known(1);
    if (da == db || db.IsOne()) {
      out[i] = da;
    } else if (da.IsOne()) {
      out[i] = db;
    } else {
      return Status::InvalidArgument("shapes " + ShapeToString(a) + " and " + ShapeToString(b) +
                                     " cannot be broadcast together");
    }
  }
  return out;
}

bool BroadcastsTo(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  const size_t offset = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i) {
    if (!(from[i] == to[i + offset]) && !from[i].IsOne()) return false;
  }
  return true;
}

std::vector<int64_t> ResolveShape(const Shape& shape, int64_t rows) {
  std::vector<int64_t> out;
  out.reserve(shape.size());
  for (const Dim& d : shape) out.push_back(d.Resolve(rows));
  return out;
}

Result<int64_t> NormalizeAxis(int64_t axis, int64_t rank, bool inclusive) {
  const int64_t limit = inclusive ? rank + 1 : rank;
  const int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= limit) {
    return Status::InvalidArgument("axis " + std::to_string(axis) + " is out of range for rank " +
                                   std::to_string(rank));
  }
  return normalized;
}

}  // namespace dim::core
