// Rows as dim.common.Tensor: float32 little-endian, row-major, shape [rows, columns]. The
// binary form of a pipeline's rows on the wire, in place of JSON arrays of numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common.pb.h"
#include "core/job/chained_config.h"
#include "core/matrix.h"
#include "core/status.h"

namespace dim::net {

// The one dtype dim reads and writes.
inline constexpr std::string_view kFloat32 = "float32";

// Fills `out` with the rows (and the column names, when given: one per column).
void ToTensor(const core::Matrix& rows, dim::common::Tensor* out,
              const std::vector<std::string>& columns = {});
void ToTensor(const core::ClientData& rows, dim::common::Tensor* out);

// Reads a tensor sent by a peer. INVALID_ARGUMENT naming `field` when its dtype is not
// float32 ("input_rows.dtype: expected float32, got 'int8'"), its shape is not [rows,
// columns] with both at least 1, it holds more than max_values values, its data is not
// exactly rows * columns * 4 bytes ("input_rows.data: 12 bytes, expected 16 for shape
// [2, 2] of float32"), a value is not finite ("input_rows.data[1][0]: expected a finite
// number"), or it names columns but not one per column.
core::Result<core::Matrix> MatrixFromTensor(const dim::common::Tensor& tensor,
                                            std::string_view field, int64_t max_values);
// The same, with the column names kept; names are also checked as a config's column names
// are (unique, non-empty, UTF-8, at most kMaxNameBytes).
core::Result<core::ClientData> ClientDataFromTensor(const dim::common::Tensor& tensor,
                                                    std::string_view field, int64_t max_values);

}  // namespace dim::net
