#include "core/client_data.h"

#include <charconv>
#include <cstdlib>

namespace dim::core {
namespace {

constexpr std::string_view kMagic = "dimrows1";

void AppendLe(uint64_t v, int bytes, std::string& out) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Reads `bytes` little-endian bytes at `at`, moving past them; false when too few are left.
bool ReadLe(std::string_view in, size_t& at, int bytes, uint64_t& v) {
  if (in.size() - at < static_cast<size_t>(bytes)) return false;
  v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  }
  at += bytes;
  return true;
}

}  // namespace

nlohmann::json RowStreamToJson(const RowStream& stream) {
  return {{"rows", stream.rows},
          {"width", stream.width},
          {"chunks", stream.chunks},
          {"columns", stream.columns}};
}

std::optional<RowStream> RowStreamFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return std::nullopt;
  RowStream s;
  for (auto [key, out] : {std::pair{"rows", &s.rows}, {"width", &s.width}, {"chunks", &s.chunks}}) {
    auto it = json.find(key);
    if (it == json.end() || !it->is_number_integer() || it->get<int64_t>() < 0) return std::nullopt;
    *out = it->get<int64_t>();
  }
  if (auto it = json.find("columns"); it != json.end() && it->is_array()) {
    for (const auto& c : *it) {
      if (!c.is_string()) return std::nullopt;
      s.columns.push_back(c.get<std::string>());
    }
  }
  return s;
}

ClientData ToClientData(const Matrix& rows) {
  ClientData out;
  out.rows = rows.rows();
  out.width = rows.cols();
  out.values.assign(rows.data(), rows.data() + rows.size());
  return out;
}

nlohmann::json FloatRowsToJson(const float* values, int64_t rows, int64_t width) {
  nlohmann::json out = nlohmann::json::array();
  for (int64_t r = 0; r < rows; ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (int64_t c = 0; c < width; ++c) {
      char buf[32];
      const auto end = std::to_chars(buf, buf + sizeof buf - 1, values[r * width + c]).ptr;
      *end = '\0';
      row.push_back(std::strtod(buf, nullptr));
    }
    out.push_back(std::move(row));
  }
  return out;
}

nlohmann::json ClientDataRowsToJson(const ClientData& data) {
  return FloatRowsToJson(data.values.data(), data.rows, data.width);
}

std::string EncodeClientData(const ClientData& data) {
  std::string out(kMagic);
  AppendLe(static_cast<uint64_t>(data.rows), 8, out);
  AppendLe(static_cast<uint64_t>(data.width), 8, out);
  AppendLe(data.columns.size(), 4, out);
  for (const auto& c : data.columns) {
    AppendLe(c.size(), 4, out);
    out += c;
  }
  out.reserve(out.size() + data.values.size() * sizeof(float));
  AppendFloat32Le(data.values.data(), data.values.size(), out);
  return out;
}

Result<ClientData> DecodeClientData(std::string_view bytes) {
  auto bad = [](const std::string& why) {
    return Status(StatusCode::kDataLoss, "stored rows: " + why);
  };
  if (bytes.substr(0, kMagic.size()) != kMagic) return bad("not dim's binary rows");
  size_t at = kMagic.size();
  uint64_t rows = 0, width = 0, names = 0;
  if (!ReadLe(bytes, at, 8, rows) || !ReadLe(bytes, at, 8, width) || !ReadLe(bytes, at, 4, names)) {
    return bad("truncated header");
  }
  const auto max = static_cast<uint64_t>(kMaxClientValues);
  if (width == 0 || rows > max / width || names > width) return bad("impossible shape");
  ClientData data;
  data.rows = static_cast<int64_t>(rows);
  data.width = static_cast<int64_t>(width);
  for (uint64_t i = 0; i < names; ++i) {
    uint64_t length = 0;
    if (!ReadLe(bytes, at, 4, length) || bytes.size() - at < length) return bad("truncated names");
    data.columns.emplace_back(bytes.substr(at, length));
    at += length;
  }
  const uint64_t count = rows * width;
  if (bytes.size() - at != count * sizeof(float)) return bad("values do not fit the shape");
  data.values.resize(count);
  ReadFloat32Le(bytes.data() + at, count, data.values.data());
  return data;
}

}  // namespace dim::core
