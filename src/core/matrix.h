// The numeric currency of src/core: a dense, row-major float matrix (rows are samples).
#pragma once

#include <Eigen/Core>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

namespace dim::core {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Appends `count` floats to `out` as float32 little-endian, whatever the host's byte order.
inline void AppendFloat32Le(const float* values, size_t count, std::string& out) {
  const size_t at = out.size();
  out.resize(at + count * sizeof(float));
  if constexpr (std::endian::native == std::endian::little) {
    if (count > 0) std::memcpy(out.data() + at, values, count * sizeof(float));
  } else {
    for (size_t i = 0; i < count; ++i) {
      const uint32_t swapped = __builtin_bswap32(std::bit_cast<uint32_t>(values[i]));
      std::memcpy(out.data() + at + i * sizeof(float), &swapped, sizeof(float));
    }
  }
}

// Reads `count` float32 little-endian values from `bytes` (at least count * 4 of them).
inline void ReadFloat32Le(const char* bytes, size_t count, float* out) {
  if constexpr (std::endian::native == std::endian::little) {
    if (count > 0) std::memcpy(out, bytes, count * sizeof(float));
  } else {
    for (size_t i = 0; i < count; ++i) {
      uint32_t raw;
      std::memcpy(&raw, bytes + i * sizeof(float), sizeof(float));
      out[i] = std::bit_cast<float>(__builtin_bswap32(raw));
    }
  }
}

}  // namespace dim::core
