// Everything `dim` prints: tables for people, one JSON document per command for scripts.
// Tables and JSON go to stdout; errors and progress to stderr.
#pragma once

#include <chrono>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/global_options.h"
#include "cli/job_backend.h"
#include "core/job_types.h"
#include "core/status.h"

namespace dim::cli {

// Columns padded to their widest cell; the first row is the header.
class Table final {
 public:
  explicit Table(std::vector<std::string> header);
  void AddRow(std::vector<std::string> cells);
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Stable keys: job_id, state, pattern, user_id, priority, progress{completed,total,percent},
// nodes[{node_id,status,execution_time,error,rows_done,rows_total}], created_at, started_at,
// completed_at, error; and result (the parsed result document) when with_result and the job has
// one.
nlohmann::json JobToJson(const core::JobRecord& job, bool with_result);

void PrintJob(const core::JobRecord& job, std::ostream& out);
// The job's error without the node errors it repeats (each node's own error says them): "0 of
// 2 nodes succeeded (quorum 2)"; the whole error when it repeats none.
std::string JobErrorSummary(const core::JobRecord& job);
// A job's timeline: TIME (since the job was submitted), EVENT, NODE, DETAIL.
void PrintJobEvents(const core::JobRecord& job, std::ostream& out);
// [{"time", "event", "node_id", "detail"}], oldest first.
nlohmann::json JobEventsToJson(const core::JobRecord& job);
void PrintResult(const core::JobRecord& job, std::ostream& out);
// JOB, STATE, PATTERN, MODEL, DATASET (from the job's config), USER, NODES, CREATED, DURATION
// (to `now` while it runs) and ERROR (one line, at most 60 characters).
void PrintJobList(const core::JobPage& page, const core::JobQuery& query, std::ostream& out,
                  std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
nlohmann::json JobListToJson(const core::JobPage& page, const core::JobQuery& query);
// The nodes as a table, or with `detail` every node in full (dim health --node). LAST SEEN is
// an age ("2s ago") at `now`; long lists of models and datasets are shortened ("a, b +3").
void PrintHealth(const HealthReport& report, std::ostream& out, bool detail = false,
                 std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
nlohmann::json HealthToJson(const HealthReport& report);

// Prints the error (stderr; and {"error": {...}} on stdout with -o json) and returns the
// exit code it maps to.
int ReportError(const GlobalOptions& options, const core::Status& status);
// Prints a `-o json` document to stdout, indented, with a newline. Strings that hold bytes
// which are not UTF-8 (a peer's message, a file name) are written with U+FFFD in their place,
// so the output is always valid JSON.
void PrintJson(const nlohmann::json& doc);
// Whether the command line asks for -o json (-o json, -ojson, --output json, --output=json),
// read before it is parsed: for errors in parsing it.
bool AsksForJson(int argc, char** argv);
// A command line CLI11 could not parse, with -o json: "dim: error: MESSAGE" on stderr and
// {"error": {"code": "INVALID_ARGUMENT", "message": ...}} on stdout; the usage exit code.
int ReportUsageError(const std::string& message);

// "job-…  RUNNING  1/3 nodes done  12,288/60,000 rows (20%)  3.20s elapsed": rows over
// the node tasks that report them; elapsed since the job started (or was submitted).
std::string ProgressLine(const core::JobRecord& job, std::chrono::system_clock::time_point now);
// One line of live progress for --wait on a terminal ("\r" redrawn), or nothing.
void PrintProgress(const core::JobRecord& job);

}  // namespace dim::cli
