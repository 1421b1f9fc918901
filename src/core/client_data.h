// A job's own rows (a pipeline's input_data, or its output rows): row-major floats with
// optional column names, and their binary form in the job store.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
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

// Rows too many for one message: sent in a streamed submit (or made by a pipeline over such
// rows) and kept in the job store in chunks, each at most kMaxClientValues numbers, read
// and written one chunk at a time.
struct RowStream {
  int64_t rows = 0;
  int64_t width = 0;
  int64_t chunks = 0;
  std::vector<std::string> columns;  // empty when the rows have no column names
};

// The most numbers a job's streamed rows may hold: 2^30, 4 GiB of float32.
inline constexpr int64_t kMaxStreamedValues = int64_t{1} << 30;

// Rows a chunk of streamed rows of this width holds: so many that the chunk, and a step's
// output over it up to kMaxStreamedOutputWidth columns wide (or as wide as the rows), each
// fit one message (kMaxClientValues numbers).
inline constexpr int64_t kMaxStreamedOutputWidth = 32;
inline int64_t StreamChunkRows(int64_t width) {
  return std::max<int64_t>(1, kMaxClientValues / std::max(width, kMaxStreamedOutputWidth));
}

// {"rows", "width", "chunks", "columns"}, and back (nullopt for anything else).
nlohmann::json RowStreamToJson(const RowStream& stream);
std::optional<RowStream> RowStreamFromJson(const nlohmann::json& json);

// Rows handed over a chunk at a time: nullopt once there are no more.
using RowSource = std::function<Result<std::optional<ClientData>>()>;
// Takes rows a chunk at a time, in order.
using RowSink = std::function<Status(const ClientData&)>;

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
