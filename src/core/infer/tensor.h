// A dense, row-major float32 tensor owned by one value of a running graph.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

namespace dim::core {

// The number of elements of a concrete shape (1 for a scalar).
inline int64_t NumElements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Move-only; Clone() copies. The buffer is not initialised by Uninitialized(), so kernels
// that overwrite every element do not pay for zeroing it first.
class Tensor final {
 public:
  Tensor() = default;
  static Tensor Uninitialized(std::vector<int64_t> shape) {
    Tensor t;
    t.size_ = NumElements(shape);
    t.shape_ = std::move(shape);
    t.data_ = std::make_unique_for_overwrite<float[]>(static_cast<size_t>(t.size_));
    return t;
  }
  static Tensor FromData(std::vector<int64_t> shape, const float* data) {
    Tensor t = Uninitialized(std::move(shape));
    if (t.size_ > 0) std::memcpy(t.data_.get(), data, static_cast<size_t>(t.size_) * sizeof(float));
    return t;
  }

  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;

  Tensor Clone() const { return FromData(shape_, data_.get()); }

  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_[static_cast<size_t>(i)]; }
  int64_t size() const { return size_; }
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }

  // Changes the shape without touching the data; the element count must not change.
  void Reshape(std::vector<int64_t> shape) { shape_ = std::move(shape); }

 private:
  std::vector<int64_t> shape_;
  int64_t size_ = 0;
  std::unique_ptr<float[]> data_;
};

}  // namespace dim::core
