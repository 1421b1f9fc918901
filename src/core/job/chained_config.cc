#include "core/job/chained_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "core/job/config_reader.h"

namespace dim::core {
namespace {

using json = nlohmann::json;

constexpr std::string_view kClientData = "client_data";
constexpr std::string_view kDatasetPrefix = "dataset:";
constexpr std::string_view kStepPrefix = "step_";
constexpr std::string_view kStepSuffix = "_output";

const KeyRules& TopLevelKeys() {
  static const KeyRules kRules{{"pipeline", "error_handling", "input_data", "timeout"}, {}};
  return kRules;
}

const KeyRules& StepKeys() {
  static const KeyRules kRules{
      {"step", "name", "model_id", "node_id", "input_source", "columns", "timeout"}, {}};
  return kRules;
}

const KeyRules& ErrorHandlingKeys() {
  static const KeyRules kRules{{"on_failure", "max_retries", "fallback_nodes"}, {}};
  return kRules;
}

const KeyRules& InputDataKeys() {
  static const KeyRules kRules{{"columns", "rows"}, {}};
  return kRules;
}

// The number a string of decimal digits spells; nullopt for anything else, or one too large
// to be a step number.
std::optional<int> ParseStepNumber(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int n = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (error != std::errc() || end != text.data() + text.size() || text[0] == '-') {
    return std::nullopt;
  }
  return n;
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

std::string StepRange(size_t steps) { return "1.." + std::to_string(steps); }

Result<StepSource> ReadSource(const json& value, const std::string& path, int step) {
  DIM_ASSIGN_OR_RETURN(std::string text, ReadString(value, path));
  StepSource source;
  if (text == kClientData) {
    source.kind = StepSource::Kind::kClientData;
    return source;
  }
  std::string_view view = text;
  if (view.starts_with(kDatasetPrefix) && view.size() > kDatasetPrefix.size()) {
    source.kind = StepSource::Kind::kDataset;
    source.dataset = text.substr(kDatasetPrefix.size());
    return source;
  }
  if (view.starts_with(kStepPrefix) && view.ends_with(kStepSuffix) &&
      view.size() > kStepPrefix.size() + kStepSuffix.size()) {
    std::string_view digits =
        view.substr(kStepPrefix.size(), view.size() - kStepPrefix.size() - kStepSuffix.size());
    if (std::optional<int> k = ParseStepNumber(digits)) {
      if (*k < 1 || *k >= step) {
        return Status::InvalidArgument(path + ": step " + std::to_string(step) + " reads step " +
                                       std::to_string(*k) +
                                       "'s output, which is not an earlier step");
      }
      source.kind = StepSource::Kind::kStepOutput;
      source.step = *k;
      return source;
    }
  }
  return Status::InvalidArgument(
      path + ": expected dataset:<name>, client_data or step_<k>_output, got '" + text + "'");
}

// The named columns of a step; see the header for which sources may have them.
Result<std::vector<std::string>> ReadStepColumns(const json& value, const std::string& path,
                                                 const StepSource& source,
                                                 const std::optional<ClientData>& input_data) {
  if (source.kind == StepSource::Kind::kStepOutput) {
    return Status::InvalidArgument(path +
                                   ": only a dataset or client_data input has named columns");
  }
  DIM_ASSIGN_OR_RETURN(std::vector<std::string> columns,
                       ReadUniqueStrings(value, path, kMaxColumns));
  if (source.kind != StepSource::Kind::kClientData) return columns;
  // ReadSource's caller has already required input_data for a client_data step.
  const std::vector<std::string>& known = input_data->columns;
  if (known.empty()) {
    return Status::InvalidArgument(
        path +
        ": input_data has no column names to pick from (give it as {\"columns\": [...], "
        "\"rows\": [...]})");
  }
  for (size_t i = 0; i < columns.size(); ++i) {
    if (std::find(known.begin(), known.end(), columns[i]) == known.end()) {
      return Status::InvalidArgument(IndexPath(path, i) + ": '" + columns[i] +
                                     "' is not a column of input_data (it has: " + Join(known) +
                                     ")");
    }
  }
  return columns;
}

// Rows read from a dataset stay on its node: a step that reads them, directly or through
// earlier steps, must run where the step it reads runs. `roots[k - 1]` is the step whose
// input_source step k's rows come from, for the steps before `step`.
Status CheckRowsStayOnNode(const ChainedStep& step, const std::vector<ChainedStep>& earlier,
                           const std::vector<int>& roots, const std::string& node_path) {
  if (step.source.kind != StepSource::Kind::kStepOutput) return Status::Ok();
  const ChainedStep& read = earlier[step.source.step - 1];
  const StepSource& origin = earlier[roots[read.step - 1] - 1].source;
  if (origin.kind != StepSource::Kind::kDataset || step.node_id == read.node_id) {
    return Status::Ok();
  }
  const std::string k = std::to_string(step.step);
  return Status::InvalidArgument(
      node_path + ": step " + k + " reads step " + std::to_string(read.step) +
      "'s output, whose rows come from " + "dataset '" + origin.dataset + "' on node '" +
      read.node_id + "' and never leave it: run step " + k + " on node '" + read.node_id + "'");
}

// What ReadStep checks a step against: the steps before it and the job's rows.
struct StepContext {
  size_t index = 0;  // in the pipeline array
  const std::vector<ChainedStep>& earlier;
  const std::vector<int>& roots;  // as in CheckRowsStayOnNode
  const std::optional<ClientData>& input_data;
};

Result<ChainedStep> ReadStep(const json& value, const std::string& path,
                             const StepContext& context) {
  DIM_ASSIGN_OR_RETURN(ConfigObject object, ConfigObject::Read(value, path, StepKeys()));
  ChainedStep step;
  const int expected = static_cast<int>(context.index) + 1;

  DIM_ASSIGN_OR_RETURN(const json* number, object.Require("step"));
  DIM_ASSIGN_OR_RETURN(
      int64_t n, ReadInteger(*number, object.PathOf("step"), std::numeric_limits<int64_t>::min(),
                             std::numeric_limits<int64_t>::max()));
  if (n != expected) {
    return Status::InvalidArgument(object.PathOf("step") +
                                   ": steps must be numbered 1..N in order: expected " +
                                   std::to_string(expected) + ", got " + std::to_string(n));
  }
  step.step = expected;

  step.name = "step_" + std::to_string(expected);
  if (const json* name = object.Find("name")) {
    DIM_ASSIGN_OR_RETURN(step.name, ReadNonEmptyString(*name, object.PathOf("name")));
  }
  for (const ChainedStep& other : context.earlier) {
    if (other.name == step.name) {
      return Status::InvalidArgument(object.PathOf("name") + ": duplicate '" + step.name +
                                     "' (also step " + std::to_string(other.step) + ")");
    }
  }

  DIM_ASSIGN_OR_RETURN(const json* model_id, object.Require("model_id"));
  DIM_ASSIGN_OR_RETURN(step.model_id, ReadNonEmptyString(*model_id, object.PathOf("model_id")));
  DIM_ASSIGN_OR_RETURN(const json* node_id, object.Require("node_id"));
  DIM_ASSIGN_OR_RETURN(step.node_id, ReadNonEmptyString(*node_id, object.PathOf("node_id")));

  DIM_ASSIGN_OR_RETURN(const json* source, object.Require("input_source"));
  const std::string source_path = object.PathOf("input_source");
  DIM_ASSIGN_OR_RETURN(step.source, ReadSource(*source, source_path, expected));
  if (step.source.kind == StepSource::Kind::kClientData && !context.input_data) {
    return Status::InvalidArgument(source_path + ": client_data needs the job's input_data");
  }

  if (const json* columns = object.Find("columns")) {
    DIM_ASSIGN_OR_RETURN(step.columns, ReadStepColumns(*columns, object.PathOf("columns"),
                                                       step.source, context.input_data));
  }
  if (const json* timeout = object.Find("timeout")) {
    DIM_ASSIGN_OR_RETURN(step.timeout_seconds,
                         ReadPositiveNumber(*timeout, object.PathOf("timeout")));
  }
  DIM_RETURN_IF_ERROR(
      CheckRowsStayOnNode(step, context.earlier, context.roots, object.PathOf("node_id")));
  return step;
}

Result<std::vector<ChainedStep>> ReadPipeline(const json& value, const std::string& path,
                                              const std::optional<ClientData>& input_data) {
  if (!value.is_array()) return TypeError(path, "an array", value);
  if (value.empty()) return Status::InvalidArgument(path + ": a pipeline needs at least 1 step");
  // Consecutive steps on one node re-run the earlier steps' models over its rows (they never
  // leave it), so a pipeline's cost grows with the square of its length: bounded.
  if (value.size() > kMaxPipelineSteps) {
    return Status::InvalidArgument(path + ": at most " + std::to_string(kMaxPipelineSteps) +
                                   " steps, got " + std::to_string(value.size()));
  }
  std::vector<ChainedStep> steps;
  std::vector<int> roots;
  for (size_t i = 0; i < value.size(); ++i) {
    DIM_ASSIGN_OR_RETURN(ChainedStep step,
                         ReadStep(value[i], IndexPath(path, i), {i, steps, roots, input_data}));
    const bool reads_step = step.source.kind == StepSource::Kind::kStepOutput;
    roots.push_back(reads_step ? roots[step.source.step - 1] : step.step);
    steps.push_back(std::move(step));
  }
  return steps;
}

// The step a fallback_nodes key names: a step number ("2") or a step's name. A number wins,
// so that the canonical form, keyed by number, always reads back as it was written.
Result<int> ReadFallbackStep(const std::string& key, const std::string& path,
                             const std::vector<ChainedStep>& steps) {
  if (std::optional<int> n = ParseStepNumber(key)) {
    if (*n < 1 || *n > static_cast<int>(steps.size())) {
      return Status::InvalidArgument(path + ": no step " + key + " (steps are " +
                                     StepRange(steps.size()) + ")");
    }
    return *n;
  }
  for (const ChainedStep& step : steps) {
    if (step.name == key) return step.step;
  }
  return Status::InvalidArgument(path + ": no step named '" + key + "' (give a step number " +
                                 StepRange(steps.size()) + " or a step's name)");
}

Result<std::map<int, std::vector<std::string>>> ReadFallbackNodes(
    const json& value, const std::string& path, const std::vector<ChainedStep>& steps) {
  if (!value.is_object()) return TypeError(path, "an object", value);
  std::map<int, std::vector<std::string>> fallbacks;
  std::map<int, std::string> keys;  // step -> the key that named it
  for (const auto& [key, nodes] : value.items()) {
    const std::string at = ChildPath(path, key);
    DIM_ASSIGN_OR_RETURN(int step, ReadFallbackStep(key, at, steps));
    if (auto [earlier, inserted] = keys.emplace(step, key); !inserted) {
      return Status::InvalidArgument(at + ": step " + std::to_string(step) + " is also given as '" +
                                     earlier->second + "'");
    }
    DIM_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                         ReadUniqueStrings(nodes, at, kMaxNodesPerJob));
    const std::string& own = steps[step - 1].node_id;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] == own) {
        return Status::InvalidArgument(IndexPath(at, i) + ": '" + own + "' is step " +
                                       std::to_string(step) + "'s own node_id, not a fallback");
      }
    }
    fallbacks[step] = std::move(ids);
  }
  return fallbacks;
}

Result<ErrorHandling> ReadErrorHandling(const json& value, const std::string& path,
                                        const std::vector<ChainedStep>& steps) {
  DIM_ASSIGN_OR_RETURN(ConfigObject object, ConfigObject::Read(value, path, ErrorHandlingKeys()));
  ErrorHandling handling;
  if (const json* on_failure = object.Find("on_failure")) {
    DIM_ASSIGN_OR_RETURN(
        std::string name,
        ReadChoice(*on_failure, object.PathOf("on_failure"), "on_failure",
                   {OnFailureName(OnFailure::kFailFast), OnFailureName(OnFailure::kRetry),
                    OnFailureName(OnFailure::kRollbackAndRetry)}));
    for (OnFailure mode : {OnFailure::kFailFast, OnFailure::kRetry, OnFailure::kRollbackAndRetry}) {
      if (OnFailureName(mode) == name) handling.on_failure = mode;
    }
  }
  const bool retries = handling.on_failure != OnFailure::kFailFast;
  for (std::string_view key : {"max_retries", "fallback_nodes"}) {
    if (!retries && object.Find(key) != nullptr) {
      return Status::InvalidArgument(object.PathOf(key) +
                                     ": only used with retry or rollback_and_retry");
    }
  }
  if (!retries) return handling;
  handling.max_retries = 2;
  if (const json* max_retries = object.Find("max_retries")) {
    DIM_ASSIGN_OR_RETURN(int64_t n, ReadInteger(*max_retries, object.PathOf("max_retries"), 0, 10));
    handling.max_retries = static_cast<int>(n);
  }
  if (const json* fallback_nodes = object.Find("fallback_nodes")) {
    DIM_ASSIGN_OR_RETURN(
        handling.fallback_nodes,
        ReadFallbackNodes(*fallback_nodes, object.PathOf("fallback_nodes"), steps));
  }
  return handling;
}

// Rows of numbers at `path`, all `width` wide when width > 0, else as wide as row 0.
// `limit_path` names input_data in the size error.
Status ReadRows(const json& value, const std::string& path, const std::string& limit_path,
                ClientData& data) {
  if (!value.is_array()) return TypeError(path, "an array of rows", value);
  if (value.empty()) return Status::InvalidArgument(path + ": input_data needs at least 1 row");
  const bool named = !data.columns.empty();
  const size_t width = named ? data.columns.size() : value[0].is_array() ? value[0].size() : 0;
  // Shapes first, so that the size limit is checked before any value is copied.
  for (size_t r = 0; r < value.size(); ++r) {
    const json& row = value[r];
    const std::string at = IndexPath(path, r);
    if (!row.is_array()) return TypeError(at, "an array of numbers", row);
    if (row.empty() && !named)
      return Status::InvalidArgument(at + ": a row needs at least 1 number");
    if (row.size() != width) {
      const std::string like = named ? ", one per column of input_data" : " like row 0";
      return Status::InvalidArgument(at + ": expected " + std::to_string(width) + " numbers" +
                                     like + ", got " + std::to_string(row.size()));
    }
  }
  const uint64_t total = static_cast<uint64_t>(value.size()) * width;
  if (total > static_cast<uint64_t>(kMaxClientValues)) {
    return Status::InvalidArgument(limit_path + ": " + std::to_string(total) +
                                   " numbers, more than the " + std::to_string(kMaxClientValues) +
                                   " a job may carry; put the rows in a dataset on a node");
  }
  data.rows = static_cast<int64_t>(value.size());
  data.width = static_cast<int64_t>(width);
  data.values.reserve(total);
  for (size_t r = 0; r < value.size(); ++r) {
    const std::string row_path = IndexPath(path, r);
    for (size_t c = 0; c < width; ++c) {
      const json& cell = value[r][c];
      if (!cell.is_number()) return TypeError(IndexPath(row_path, c), "a number", cell);
      const float v = static_cast<float>(cell.get<double>());
      if (!std::isfinite(v)) {
        return Status::InvalidArgument(
            IndexPath(row_path, c) + ": must be a finite 32-bit float, got " + DescribeValue(cell));
      }
      data.values.push_back(v);
    }
  }
  return Status::Ok();
}

// An array of rows, or {"columns": [...], "rows": [...]}.
Result<ClientData> ReadInputData(const json& value, const std::string& path) {
  ClientData data;
  if (value.is_array()) {
    DIM_RETURN_IF_ERROR(ReadRows(value, path, path, data));
    return data;
  }
  if (!value.is_object()) return TypeError(path, "an array of rows or an object", value);
  DIM_ASSIGN_OR_RETURN(ConfigObject object, ConfigObject::Read(value, path, InputDataKeys()));
  DIM_ASSIGN_OR_RETURN(const json* columns, object.Require("columns"));
  const std::string columns_path = object.PathOf("columns");
  DIM_ASSIGN_OR_RETURN(data.columns, ReadUniqueStrings(*columns, columns_path, kMaxColumns));
  if (data.columns.empty()) {
    return Status::InvalidArgument(columns_path + ": input_data needs at least 1 column");
  }
  DIM_ASSIGN_OR_RETURN(const json* rows, object.Require("rows"));
  DIM_RETURN_IF_ERROR(ReadRows(*rows, object.PathOf("rows"), path, data));
  return data;
}

json RowsToJson(const ClientData& data) {
  json rows = json::array();
  for (int64_t r = 0; r < data.rows; ++r) {
    const auto begin = data.values.begin() + r * data.width;
    rows.push_back(std::vector<float>(begin, begin + data.width));
  }
  return rows;
}

}  // namespace

std::string StepSourceText(const StepSource& source) {
  switch (source.kind) {
    case StepSource::Kind::kDataset:
      return std::string(kDatasetPrefix) + source.dataset;
    case StepSource::Kind::kClientData:
      return std::string(kClientData);
    case StepSource::Kind::kStepOutput:
      return std::string(kStepPrefix) + std::to_string(source.step) + std::string(kStepSuffix);
  }
  return {};
}

std::string_view OnFailureName(OnFailure on_failure) {
  switch (on_failure) {
    case OnFailure::kFailFast:
      return "fail_fast";
    case OnFailure::kRetry:
      return "retry";
    case OnFailure::kRollbackAndRetry:
      return "rollback_and_retry";
  }
  return "fail_fast";
}

Result<ChainedConfig> ParseChainedConfig(std::string_view json_text, const ClientData* input_rows) {
  DIM_ASSIGN_OR_RETURN(json root, ParseJsonText(json_text));
  DIM_ASSIGN_OR_RETURN(ConfigObject object, ConfigObject::Read(root, "$", TopLevelKeys()));
  ChainedConfig config;

  // input_data first: the steps that read client_data check their columns against it.
  const json* input_data = object.Find("input_data");
  const std::string input_path = object.PathOf("input_data");
  if (input_data != nullptr && input_rows != nullptr) {
    return Status::InvalidArgument(
        "input_rows: the rows are also in the config's input_data; send them once");
  }
  if (input_data != nullptr) {
    DIM_ASSIGN_OR_RETURN(config.input_data, ReadInputData(*input_data, input_path));
  } else if (input_rows != nullptr) {
    config.input_data = *input_rows;
  }

  DIM_ASSIGN_OR_RETURN(const json* pipeline, object.Require("pipeline"));
  DIM_ASSIGN_OR_RETURN(config.steps,
                       ReadPipeline(*pipeline, object.PathOf("pipeline"), config.input_data));
  if (config.input_data) {
    const bool read = std::any_of(config.steps.begin(), config.steps.end(), [](const auto& s) {
      return s.source.kind == StepSource::Kind::kClientData;
    });
    if (!read) {
      return Status::InvalidArgument((input_data != nullptr ? input_path : "input_rows") +
                                     ": no step reads it (give a step the input_source "
                                     "client_data, or leave input_data out)");
    }
  }

  if (const json* handling = object.Find("error_handling")) {
    DIM_ASSIGN_OR_RETURN(
        config.error_handling,
        ReadErrorHandling(*handling, object.PathOf("error_handling"), config.steps));
  }
  if (const json* timeout = object.Find("timeout")) {
    DIM_ASSIGN_OR_RETURN(config.timeout_seconds,
                         ReadPositiveNumber(*timeout, object.PathOf("timeout")));
  }
  return config;
}

json ChainedConfigToJson(const ChainedConfig& config) {
  json pipeline = json::array();
  for (const ChainedStep& step : config.steps) {
    json s = {
        {"step", step.step},
        {"name", step.name},
        {"model_id", step.model_id},
        {"node_id", step.node_id},
        {"input_source", StepSourceText(step.source)},
    };
    // Left out when empty or unset: a step_<k>_output source may not have columns, and the
    // parser requires a timeout to be set when present.
    if (!step.columns.empty()) s["columns"] = step.columns;
    if (step.timeout_seconds > 0) s["timeout"] = step.timeout_seconds;
    pipeline.push_back(std::move(s));
  }
  const ErrorHandling& handling = config.error_handling;
  json error_handling = {{"on_failure", OnFailureName(handling.on_failure)}};
  if (handling.on_failure != OnFailure::kFailFast) {
    error_handling["max_retries"] = handling.max_retries;
    json fallbacks = json::object();
    for (const auto& [step, nodes] : handling.fallback_nodes) {
      fallbacks[std::to_string(step)] = nodes;
    }
    error_handling["fallback_nodes"] = std::move(fallbacks);
  }
  json out = {{"pipeline", std::move(pipeline)}, {"error_handling", std::move(error_handling)}};
  if (config.input_data) {
    const ClientData& data = *config.input_data;
    if (data.columns.empty()) {
      out["input_data"] = RowsToJson(data);
    } else {
      out["input_data"] = {{"columns", data.columns}, {"rows", RowsToJson(data)}};
    }
  }
  if (config.timeout_seconds > 0) out["timeout"] = config.timeout_seconds;
  return out;
}

}  // namespace dim::core
