// A job's own rows (a pipeline's input_data, or its output rows): row-major floats with
// optional column names, and their binary form in the job store.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/matrix.h"
#include "core/status.h"

namespace dim::core {

struct ClientData {
  std::vector<std::string> columns;  // empty when the rows have no column names
  int64_t rows = 0;
  int64_t width = 0;
  std::vector<float> values;  // rows x width
};

// The most numbers a job's rows may hold: they travel inside gRPC messages.
inline constexpr int64_t kMaxClientValues = 500000;

// The matrix's rows, without column names.
ClientData ToClientData(const Matrix& rows);

// Row-major floats as JSON: an array of `rows` arrays of `width` numbers, each the float's
// shortest decimal form ("0.1", not 0.10000000149011612), which reads back as the same float.
nlohmann::json FloatRowsToJson(const float* values, int64_t rows, int64_t width);
// The rows so.
nlohmann::json ClientDataRowsToJson(const ClientData& data);

// The rows as the job store keeps them: "dimrows1", rows and width (u64), the number of
// column names (u32), each name's length (u32) and bytes, then the values as float32, all
// little-endian.
std::string EncodeClientData(const ClientData& data);
// The inverse. DATA_LOSS naming what is wrong when the bytes are not such rows (truncated,
// a count that does not fit the bytes, more than kMaxClientValues values).
Result<ClientData> DecodeClientData(std::string_view bytes);

}  // namespace dim::core
