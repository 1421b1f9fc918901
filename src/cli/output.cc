#include "cli/output.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli/exit_codes.h"
#include "core/clock.h"
#include "core/text.h"

namespace dim::cli {
namespace {

std::string Fixed(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string Progress(const core::JobRecord& job) {
  return std::to_string(job.completed_steps) + "/" + std::to_string(job.total_steps);
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

// The columns a cell takes on a terminal: its characters (UTF-8 continuation bytes take none).
size_t Columns(const std::string& s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// `items` as "a, b, c"; more than `most` as the first most-1 and "+N": "heart_mlp, heart_risk +3".
std::string ShortList(const std::vector<std::string>& items, size_t most = 3) {
  if (items.empty()) return "-";
  std::string out;
  const size_t shown = items.size() > most ? most - 1 : items.size();
  for (size_t i = 0; i < shown; ++i) out += (i == 0 ? "" : ", ") + items[i];
  if (shown < items.size()) out += " +" + std::to_string(items.size() - shown);
  return out;
}

// Text from a job or a peer (an error) on one line of at most `most` characters, cut on a
// character boundary and ended with "…" when longer; "-" when empty.
std::string OneLine(const std::string& text, size_t most = 60) {
  std::string line;
  for (char c : core::ToValidUtf8(text)) {
    const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (space && (line.empty() || line.back() == ' ')) continue;
    line += space ? ' ' : c;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  if (line.empty()) return "-";
  if (Columns(line) <= most) return line;
  size_t end = 0;
  for (size_t chars = 0; end < line.size() && chars < most - 1; ++chars) {
    ++end;
    while (end < line.size() && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) ++end;
  }
  line.resize(end);
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line + "\xE2\x80\xA6";  // …
}

// How long ago an ISO 8601 time was: "2s ago", "3m ago", "5h ago", "2d ago"; "-" when it is
// not one.
std::string Age(const std::string& iso, std::chrono::system_clock::time_point now) {
  const auto at = core::ParseIso8601(iso);
  if (!at) return "-";
  const int64_t s =
      std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(now - *at).count());
  if (s < 60) return std::to_string(s) + "s ago";
  if (s < 3600) return std::to_string(s / 60) + "m ago";
  if (s < 86400) return std::to_string(s / 3600) + "h ago";
  return core::GroupThousands(s / 86400) + "d ago";
}

// How long a job ran: from its start (or submission) to its end, or to `now` while it runs;
// "-" for a job that has not started.
std::string JobDuration(const core::JobRecord& job, std::chrono::system_clock::time_point now) {
  const auto start = core::ParseIso8601(job.started_at.empty() ? job.created_at : job.started_at);
  if (!start || (job.started_at.empty() && !core::IsTerminal(job.state))) return "-";
  const auto end =
      job.completed_at.empty() ? std::optional(now) : core::ParseIso8601(job.completed_at);
  if (!end || (job.completed_at.empty() && core::IsTerminal(job.state))) return "-";
  return core::FormatDuration(std::max(0.0, std::chrono::duration<double>(*end - *start).count()));
}

// The models and datasets a job's stored config names (it is stored normalized: snake_case
// keys, every pattern's defaults filled in).
struct JobSummary {
  std::vector<std::string> models;
  std::vector<std::string> datasets;
};

JobSummary SummarizeConfig(const core::JobRecord& job) {
  JobSummary out;
  const auto config = core::ParseUntrustedJson(job.config_json);
  if (!config.is_object()) return out;
  const auto add = [](std::vector<std::string>& list, const nlohmann::json& v) {
    if (!v.is_string()) return;
    const std::string item = v.get<std::string>();
    if (!item.empty() && std::find(list.begin(), list.end(), item) == list.end()) {
      list.push_back(item);
    }
  };
  if (const auto it = config.find("model_id"); it != config.end()) add(out.models, *it);
  if (const auto it = config.find("model_ids"); it != config.end() && it->is_array()) {
    for (const auto& m : *it) add(out.models, m);
  }
  if (const auto it = config.find("dataset"); it != config.end()) add(out.datasets, *it);
  // A pipeline: each step's model, and the datasets (or the client's rows) its steps read.
  if (const auto it = config.find("pipeline"); it != config.end() && it->is_array()) {
    for (const auto& step : *it) {
      if (!step.is_object()) continue;
      if (const auto m = step.find("model_id"); m != step.end()) add(out.models, *m);
      const auto source = step.find("input_source");
      if (source == step.end() || !source->is_string()) continue;
      const std::string text = source->get<std::string>();
      if (text.rfind("dataset:", 0) == 0) add(out.datasets, text.substr(8));
      if (text == "client_data") add(out.datasets, text);
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out.empty() ? "-" : out;
}

std::string Percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * fraction);
  return buf;
}

// CLASS / ROWS / SHARE: one row per count of `counts` (a JSON array), shares of `rows`.
Table ClassTable(const nlohmann::json& counts, double rows) {
  Table classes({"CLASS", "ROWS", "SHARE"});
  const double denominator = std::max<double>(1, rows);
  int k = 0;
  for (const auto& c : counts) {
    classes.AddRow({std::to_string(k++), core::GroupThousands(c.get<int64_t>()),
                    Percent(c.get<double>() / denominator)});
  }
  return classes;
}

// OUTPUT / MEAN / STD / MIN / MAX of a summary's "columns".
Table ColumnTable(const nlohmann::json& columns) {
  Table cols({"OUTPUT", "MEAN", "STD", "MIN", "MAX"});
  int i = 0;
  for (const auto& c : columns) {
    cols.AddRow({std::to_string(i++), Fixed(c.value("mean", 0.0)), Fixed(c.value("std", 0.0)),
                 Fixed(c.value("min", 0.0)), Fixed(c.value("max", 0.0))});
  }
  return cols;
}

std::string Shape(const nlohmann::json& shape) {
  if (!shape.is_array() || shape.size() != 2) return "-";
  return core::DumpJson(shape[0]) + "x" + core::DumpJson(shape[1]);
}

// The output rows a table shows; -o json has them all.
constexpr size_t kRowsShown = 20;

// A pipeline: one line per step, then the last step's output (and its rows when they came
// from the client). A failed pipeline has its trace only.
void PrintChainedResult(const core::JobRecord& job, const nlohmann::json& r, std::ostream& out) {
  const auto& trace = r.value("pipeline_trace", nlohmann::json::array());
  out << "job " << job.id << " " << core::JobStateName(job.state) << ": chained, "
      << trace.size() << (trace.size() == 1 ? " step" : " steps") << ", on_failure "
      << r.value("on_failure", "") << "\n\n";
  Table steps({"STEP", "NAME", "MODEL", "NODE", "INPUT", "STATUS", "ATTEMPTS", "TIME", "OUTPUT",
               "ERROR"});
  for (const auto& s : trace) {
    steps.AddRow({core::DumpJson(s.value("step", nlohmann::json(0))), s.value("name", ""),
                  s.value("model_id", ""), s.value("node_id", ""), s.value("input_source", ""),
                  s.value("status", ""), core::DumpJson(s.value("attempts", nlohmann::json(0))),
                  s.value("status", "") == "skipped" ? "-" : s.value("duration", ""),
                  Shape(s.value("output_shape", nlohmann::json())), OrDash(s.value("error", ""))});
  }
  steps.Print(out);
  if (!r.contains("output")) return;
  const auto& output = r["output"];
  out << "\noutput of step " << trace.size() << ": " << Shape(r.value("output_shape", nlohmann::json()))
      << "\n";
  ColumnTable(output.value("columns", nlohmann::json::array())).Print(out);
  if (output.contains("class_counts")) {
    out << '\n';
    ClassTable(output["class_counts"], output.value("rows", 0.0)).Print(out);
  }
  if (!r.contains("output_rows")) return;
  const auto& rows = r["output_rows"];
  out << "\noutput rows";
  if (rows.size() > kRowsShown) out << " (first " << kRowsShown << " of " << rows.size() << "; all of them with -o json)";
  out << ":\n";
  for (size_t i = 0; i < rows.size() && i < kRowsShown; ++i) {
    std::string line;
    for (const auto& v : rows[i]) line += (line.empty() ? "" : "  ") + Fixed(v.get<double>());
    out << "  " << line << '\n';
  }
}

// A comparative job's vote: consensus classes, agreement per model and per pair, review rows.
void PrintComparativeResult(const core::JobRecord& job, const nlohmann::json& r,
                            std::ostream& out) {
  const auto models = r.value("model_ids", std::vector<std::string>{});
  const int64_t rows = r.value("rows", int64_t{0});
  const std::string method = r.value("consensus_method", "");
  out << "job " << job.id << " " << core::JobStateName(job.state) << ": comparative, " << method
      << " of " << models.size() << " models on node " << r.value("node_id", "") << ", dataset "
      << r.value("dataset", "") << ", " << rows << " rows\n";
  out << "agreement level " << Percent(r.value("agreement_level", 0.0));
  if (r.contains("weights")) {
    std::vector<std::string> weights;
    for (const auto& w : r["weights"]) weights.push_back(Fixed(w.get<double>()));
    out << ", weights " << Join(weights);
  }
  if (r.contains("min_agreement"))
    out << ", min agreement " << Fixed(r["min_agreement"].get<double>());
  out << "\n\n";

  Table classes =
      ClassTable(r.value("class_counts", nlohmann::json::array()), static_cast<double>(rows));
  const double denominator = std::max<double>(1, static_cast<double>(rows));
  const int64_t none = r.value("no_consensus", int64_t{0});
  if (method == "unanimous") {
    classes.AddRow(
        {"none", core::GroupThousands(none), Percent(static_cast<double>(none) / denominator)});
  }
  classes.Print(out);

  out << '\n';
  std::vector<std::string> header = {"MODEL", "AGREES"};
  for (const auto& m : models) header.push_back(m);
  Table agreement(header);
  const auto per_model = r.value("model_agreement", std::vector<double>{});
  const auto pairs = r.value("pairwise_agreement", std::vector<std::vector<double>>{});
  for (size_t i = 0; i < models.size(); ++i) {
    std::vector<std::string> row = {models[i], i < per_model.size() ? Percent(per_model[i]) : "-"};
    for (size_t j = 0; j < models.size(); ++j) {
      row.push_back(i < pairs.size() && j < pairs[i].size() ? Percent(pairs[i][j]) : "-");
    }
    agreement.AddRow(std::move(row));
  }
  agreement.Print(out);
  out << "(AGREES: rows on which the model chose the consensus class; then agreement per pair)\n";

  const int64_t review = r.value("review_count", int64_t{0});
  if (method == "expert_review") {
    out << "\n"
        << review << " rows for review (agreement below " << Fixed(r.value("min_agreement", 1.0))
        << ")";
    std::vector<std::string> indices;
    for (const auto& i : r.value("review_rows", nlohmann::json::array())) {
      indices.push_back(std::to_string(i.get<int64_t>()));
    }
    if (!indices.empty()) {
      out << ", data rows (0-based): " << Join(indices);
      if (r.value("review_rows_truncated", false)) {
        out << " (the first " << indices.size() << " only)";
      }
    }
    out << '\n';
  } else if (method == "unanimous") {
    out << "\n" << review << " rows without a unanimous class\n";
  }
}

}  // namespace

Table::Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }

void Table::AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

void Table::Print(std::ostream& out) const {
  std::vector<size_t> width;
  for (const auto& row : rows_) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], Columns(row[i]));
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - Columns(row[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
}

nlohmann::json JobToJson(const core::JobRecord& job, bool with_result) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : job.nodes) {
    nlohmann::json node = {{"node_id", n.node_id}, {"status", core::TaskStateName(n.state)}};
    node["execution_time"] = n.completed_at.empty() ? "" : core::FormatDuration(n.execution_seconds);
    node["error"] = core::ErrorText(n.error);
    node["rows_done"] = n.rows_done;
    node["rows_total"] = n.rows_total;
    nodes.push_back(std::move(node));
  }
  const int percent = job.total_steps > 0 ? job.completed_steps * 100 / job.total_steps : 0;
  nlohmann::json j = {
      {"job_id", job.id},
      {"state", core::JobStateName(job.state)},
      {"pattern", core::PatternName(job.pattern)},
      {"user_id", job.user_id},
      {"priority", core::PriorityName(job.priority)},
      {"progress",
       {{"completed", job.completed_steps}, {"total", job.total_steps}, {"percent", percent}}},
      {"nodes", std::move(nodes)},
      {"created_at", job.created_at},
      {"started_at", job.started_at},
      {"completed_at", job.completed_at},
      {"error", job.error},
  };
  if (with_result && !job.result_json.empty()) {
    auto result = core::JobResultDocument(job);
    j["result"] = result.is_discarded() ? nlohmann::json(job.result_json) : result;
  }
  return j;
}

std::string JobErrorSummary(const core::JobRecord& job) {
  std::string rest = job.error;
  bool cut = false;
  for (const auto& n : job.nodes) {
    if (n.error.ok()) continue;
    const std::string part = n.node_id + ": " + n.error.ToString();
    if (const auto at = rest.find(part); at != std::string::npos) {
      rest.erase(at, part.size());
      cut = true;
    }
  }
  if (!cut) return job.error;
  // What the node errors leave: "0 of 2 nodes succeeded (quorum 2): ; ".
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == ';' || rest.back() == ':')) {
    rest.pop_back();
  }
  return rest.find_first_not_of(" ;:") == std::string::npos ? job.error : rest;
}

void PrintJob(const core::JobRecord& job, std::ostream& out) {
  Table t({"JOB", job.id});
  t.AddRow({"STATE", std::string(core::JobStateName(job.state))});
  t.AddRow({"PATTERN", std::string(core::PatternName(job.pattern))});
  t.AddRow({"USER", OrDash(job.user_id)});
  t.AddRow({"PRIORITY", std::string(core::PriorityName(job.priority))});
  t.AddRow({"PROGRESS", Progress(job) + " nodes"});
  t.AddRow({"CREATED", OrDash(job.created_at)});
  t.AddRow({"STARTED", OrDash(job.started_at)});
  t.AddRow({"ENDED", OrDash(job.completed_at)});
  if (!job.error.empty()) {
    const std::string summary = JobErrorSummary(job);
    t.AddRow({"ERROR", summary == job.error ? summary : summary + " (each node's error below)"});
  }
  t.Print(out);
  if (job.nodes.empty()) return;
  out << '\n';
  const bool chained = job.pattern == core::Pattern::kChained;
  Table nodes(chained ? std::vector<std::string>{"STEP", "NODE", "STATUS", "ROWS", "TIME", "ERROR"}
                      : std::vector<std::string>{"NODE", "STATUS", "ROWS", "TIME", "ERROR"});
  int step = 0;
  for (const auto& n : job.nodes) {
    std::string rows = "-";
    if (n.rows_total > 0) {
      rows = n.rows_done == n.rows_total
                 ? core::GroupThousands(n.rows_total)
                 : core::GroupThousands(n.rows_done) + "/" + core::GroupThousands(n.rows_total);
    }
    std::vector<std::string> row = {
        n.node_id, std::string(core::TaskStateName(n.state)), rows,
        n.completed_at.empty() ? "-" : core::FormatDuration(n.execution_seconds),
        OrDash(core::ErrorText(n.error))};
    if (chained) row.insert(row.begin(), std::to_string(++step));
    nodes.AddRow(std::move(row));
  }
  nodes.Print(out);
}

nlohmann::json JobEventsToJson(const core::JobRecord& job) {
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : job.events) {
    events.push_back({{"time", e.time},
                      {"event", core::JobEventName(e.kind)},
                      {"node_id", e.node_id},
                      {"detail", e.detail}});
  }
  return events;
}

void PrintJobEvents(const core::JobRecord& job, std::ostream& out) {
  if (job.events.empty()) {
    out << "job " << job.id << " has no events (it was submitted before jobs kept them)\n";
    return;
  }
  const auto created = core::ParseIso8601(job.created_at);
  Table t({"TIME", "+ELAPSED", "EVENT", "NODE", "DETAIL"});
  for (const auto& e : job.events) {
    std::string elapsed = "-";
    if (const auto at = core::ParseIso8601(e.time); at && created) {
      elapsed = "+" + core::FormatDuration(std::chrono::duration<double>(*at - *created).count());
    }
    // Text from peers (a node's error) is shown on one line.
    std::string detail = e.detail;
    std::replace(detail.begin(), detail.end(), '\n', ' ');
    t.AddRow({e.time, elapsed, std::string(core::JobEventName(e.kind)), OrDash(e.node_id),
              OrDash(detail)});
  }
  t.Print(out);
}

void PrintResult(const core::JobRecord& job, std::ostream& out) {
  auto r = core::JobResultDocument(job);
  if (r.is_object() && r.value("pattern", "") == "comparative") {
    PrintComparativeResult(job, r, out);
    return;
  }
  if (r.is_object() && r.value("pattern", "") == "chained") {
    PrintChainedResult(job, r, out);
    return;
  }
  if (r.is_discarded() || !r.is_object() || !r.contains("aggregate")) {
    out << job.result_json << '\n';
    return;
  }
  const auto& agg = r["aggregate"];
  out << "job " << job.id << " " << core::JobStateName(job.state) << ": " << r.value("pattern", "")
      << ", model " << r.value("model_id", "") << ", dataset " << r.value("dataset", "") << ", "
      << r.value("aggregation_method", "") << " over "
      << core::Counted(agg.value("nodes_used", int64_t{0}), "node") << ", "
      << core::Counted(agg.value("rows", int64_t{0}), "row") << "\n\n";
  ColumnTable(agg.value("columns", nlohmann::json::array())).Print(out);
  if (agg.contains("class_counts")) {
    out << '\n';
    ClassTable(agg["class_counts"], agg.value("rows", 0.0)).Print(out);
  }
  out << '\n';
  Table nodes({"NODE", "STATUS", "ROWS", "TIME", "ERROR"});
  for (const auto& n : r.value("nodes", nlohmann::json::array())) {
    const std::string rows =
        n.contains("summary") ? core::GroupThousands(n["summary"].value("rows", int64_t{0})) : "-";
    nodes.AddRow({n.value("node_id", ""), n.value("status", ""), rows,
                  n.value("execution_time", ""), OrDash(n.value("error", ""))});
  }
  nodes.Print(out);
}

void PrintJobList(const core::JobPage& page, const core::JobQuery& query, std::ostream& out,
                  std::chrono::system_clock::time_point now) {
  Table t({"JOB", "STATE", "PATTERN", "MODEL", "DATASET", "USER", "NODES", "CREATED", "DURATION",
           "ERROR"});
  for (const auto& j : page.jobs) {
    const JobSummary summary = SummarizeConfig(j);
    t.AddRow({j.id, std::string(core::JobStateName(j.state)),
              std::string(core::PatternName(j.pattern)), ShortList(summary.models),
              ShortList(summary.datasets), OrDash(j.user_id), Progress(j), j.created_at,
              JobDuration(j, now), OneLine(JobErrorSummary(j))});
  }
  t.Print(out);
  const int64_t shown = static_cast<int64_t>(page.jobs.size());
  if (page.total > query.offset + shown) {
    out << "(" << shown << " of " << page.total << " jobs; see more with --offset "
        << query.offset + shown << ")\n";
  }
}

nlohmann::json JobListToJson(const core::JobPage& page, const core::JobQuery& query) {
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& j : page.jobs) jobs.push_back(JobToJson(j, false));
  return {{"jobs", std::move(jobs)},
          {"total", page.total},
          {"limit", query.limit},
          {"offset", query.offset}};
}

namespace {

std::string Tasks(const core::NodeDescription& n) {
  return core::GroupThousands(n.active_jobs) + " running, " + core::GroupThousands(n.queued_jobs) +
         " queued / " + core::GroupThousands(n.max_concurrent_jobs);
}

std::string Cpu(const core::NodeResources& r) {
  if (!r.known) return "-";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%d (%.0f%%)", r.cpu_available, r.cpu_percent);
  return buf;
}

std::string Memory(const core::NodeResources& r) {
  if (!r.known) return "-";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%sG free (%.0f%% used)",
                core::GroupThousands(r.memory_available_gb).c_str(), r.memory_percent);
  return buf;
}

std::string Reputation(const core::NodeDescription& n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", n.reputation);
  return buf;
}

std::string Labels(const core::NodeDescription& n) {
  std::vector<std::string> labels;
  for (const auto& [key, value] : n.labels) labels.push_back(key + "=" + value);
  return Join(labels);
}

std::string Datasets(const core::NodeDescription& n) {
  std::vector<std::string> datasets;
  for (const auto& d : n.datasets) {
    datasets.push_back(d.name + "(" + core::GroupThousands(d.shape.rows) + ")");
  }
  return ShortList(datasets);
}

// Everything known of one node, one line per item.
void PrintNode(const core::NodeDescription& n, std::ostream& out,
               std::chrono::system_clock::time_point now) {
  Table t({"NODE", n.id});
  t.AddRow({"STATUS", n.active ? "ACTIVE" : "INACTIVE"});
  t.AddRow({"ADDRESS", OrDash(n.address)});
  t.AddRow({"SOURCE", OrDash(n.source)});
  t.AddRow(
      {"LAST SEEN", n.last_seen.empty() ? "-" : n.last_seen + " (" + Age(n.last_seen, now) + ")"});
  t.AddRow({"TASKS", core::GroupThousands(n.active_jobs) + " running, " +
                         core::GroupThousands(n.queued_jobs) + " queued, " +
                         core::GroupThousands(n.max_concurrent_jobs) + " at once"});
  t.AddRow({"REPUTATION", Reputation(n) + " (" + core::GroupThousands(n.tasks_succeeded) +
                              " tasks succeeded, " + core::GroupThousands(n.tasks_failed) +
                              " failed)"});
  t.AddRow({"CPU", n.resources.known ? std::to_string(n.resources.cpu_available) + " cores, " +
                                           Percent(n.resources.cpu_percent / 100) + " load"
                                     : "-"});
  t.AddRow({"MEMORY", Memory(n.resources)});
  t.AddRow({"GPU", !n.resources.known ? "-" : n.resources.gpu_available ? "yes" : "no"});
  t.AddRow({"LABELS", OrDash(Labels(n))});
  t.AddRow({"MODELS", OrDash(Join(n.models))});
  if (!n.error.empty()) t.AddRow({"ERROR", n.error});
  t.Print(out);
  if (n.datasets.empty()) return;
  out << '\n';
  Table d({"DATASET", "ROWS", "K", "DP", "MAX EPSILON", "BUDGET LEFT", "COLUMNS"});
  for (const auto& ds : n.datasets) {
    const auto& p = ds.policy;
    d.AddRow({ds.name, core::GroupThousands(ds.shape.rows),
              p ? core::GroupThousands(p->min_samples) : "-",
              p ? (p->dp_required ? "required" : "optional") : "-",
              p && p->max_epsilon_per_job > 0 ? core::ShortNumber(p->max_epsilon_per_job) : "-",
              p && p->budget > 0 ? core::ShortNumber(std::max(0.0, p->budget - p->spent)) + " of " +
                                       core::ShortNumber(p->budget)
                                 : "-",
              Join(ds.shape.columns)});
  }
  d.Print(out);
}

}  // namespace

void PrintHealth(const HealthReport& report, std::ostream& out, bool detail,
                 std::chrono::system_clock::time_point now) {
  out << "orchestrator " << report.server << ": " << report.status << " (dim "
      << report.version << ")\n";
  if (report.nodes.empty()) {
    out << "no nodes\n";
    return;
  }
  out << '\n';
  if (detail) {
    for (size_t i = 0; i < report.nodes.size(); ++i) {
      if (i > 0) out << '\n';
      PrintNode(report.nodes[i], out, now);
    }
    return;
  }
  Table t({"NODE", "STATUS", "ADDRESS", "LAST SEEN", "TASKS", "CPU", "MEMORY", "REP", "DATASETS",
           "MODELS", "LABELS"});
  for (const auto& n : report.nodes) {
    t.AddRow({n.id, n.active ? "ACTIVE" : "INACTIVE", OrDash(n.address), Age(n.last_seen, now),
              Tasks(n), Cpu(n.resources), Memory(n.resources), Reputation(n), Datasets(n),
              ShortList(n.models), OrDash(Labels(n))});
  }
  t.Print(out);
  for (const auto& n : report.nodes) {
    if (!n.error.empty()) out << "node " << n.id << ": " << OneLine(n.error, 200) << '\n';
  }
}

nlohmann::json HealthToJson(const HealthReport& report) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : report.nodes) {
    nlohmann::json datasets = nlohmann::json::array();
    for (const auto& d : n.datasets) {
      nlohmann::json entry = {
          {"name", d.name}, {"rows", d.shape.rows}, {"columns", d.shape.columns}};
      if (d.policy) {
        entry["policy"] = {{"min_samples", d.policy->min_samples},
                           {"dp_required", d.policy->dp_required},
                           {"max_epsilon_per_job", d.policy->max_epsilon_per_job},
                           {"privacy_budget", d.policy->budget},
                           {"privacy_spent", d.policy->spent}};
      }
      datasets.push_back(std::move(entry));
    }
    nlohmann::json resources = nullptr;
    if (n.resources.known) {
      resources = {{"cpu_available", n.resources.cpu_available},
                   {"cpu_percent", n.resources.cpu_percent},
                   {"memory_available_gb", n.resources.memory_available_gb},
                   {"memory_percent", n.resources.memory_percent},
                   {"gpu_available", n.resources.gpu_available}};
    }
    nodes.push_back({{"node_id", n.id},
                     {"status", n.active ? "ACTIVE" : "INACTIVE"},
                     {"address", n.address},
                     {"source", n.source},
                     {"last_seen", n.last_seen},
                     {"datasets", std::move(datasets)},
                     {"models", n.models},
                     {"active_jobs", n.active_jobs},
                     {"queued_jobs", n.queued_jobs},
                     {"max_concurrent_jobs", n.max_concurrent_jobs},
                     {"labels", n.labels},
                     {"resources", std::move(resources)},
                     {"reputation", n.reputation},
                     {"tasks_succeeded", n.tasks_succeeded},
                     {"tasks_failed", n.tasks_failed},
                     {"error", n.error}});
  }
  return {{"server", report.server},
          {"status", report.status},
          {"version", report.version},
          {"nodes", std::move(nodes)}};
}

void PrintJson(const nlohmann::json& doc) { std::cout << core::DumpJson(doc, 2) << '\n'; }

bool AsksForJson(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-ojson" || arg == "--output=json") return true;
    if ((arg == "-o" || arg == "--output") && i + 1 < argc &&
        std::string_view(argv[i + 1]) == "json") {
      return true;
    }
  }
  return false;
}

int ReportUsageError(const std::string& message) {
  GlobalOptions json_output;
  json_output.output = OutputFormat::kJson;
  return ReportError(json_output, core::Status::InvalidArgument(message));
}

int ReportError(const GlobalOptions& options, const core::Status& status) {
  const std::string message = core::SafeMessage(status.message());
  std::cerr << "dim: error: " << message << " (" << core::StatusCodeName(status.code()) << ")\n";
  if (options.output == OutputFormat::kJson) {
    const nlohmann::json doc{
        {"error", {{"code", core::StatusCodeName(status.code())}, {"message", message}}}};
    PrintJson(doc);
  }
  return ExitCodeFor(status);
}

std::string ProgressLine(const core::JobRecord& job, std::chrono::system_clock::time_point now) {
  std::string line = job.id + "  " + std::string(core::JobStateName(job.state)) + "  " +
                     Progress(job) + " nodes done";
  // Rows, summed over the node tasks that report them.
  int64_t done = 0, total = 0;
  for (const auto& n : job.nodes) {
    done += n.rows_done;
    total += n.rows_total;
  }
  if (total > 0) {
    line += "  " + core::GroupThousands(done) + "/" + core::GroupThousands(total) + " rows (" +
            std::to_string(done * 100 / total) + "%)";
  }
  // Since the job started (or was submitted), not since the watch began.
  const auto since = core::ParseIso8601(job.started_at.empty() ? job.created_at : job.started_at);
  const auto until = core::IsTerminal(job.state) ? core::ParseIso8601(job.completed_at) : now;
  if (since && until) {
    line += "  " + core::FormatDuration(std::chrono::duration<double>(*until - *since).count()) +
            " elapsed";
  }
  return line;
}

void PrintProgress(const core::JobRecord& job) {
  if (!isatty(STDERR_FILENO)) return;
  std::fprintf(stderr, "\r\033[K%s", ProgressLine(job, std::chrono::system_clock::now()).c_str());
  if (core::IsTerminal(job.state)) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace dim::cli
