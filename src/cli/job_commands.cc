// dim submit | status | result | ls | cancel | health: the client, remote or --local.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/job_backend.h"
#include "cli/output.h"
#include "cli/rows_file.h"
#include "cli/validators.h"
#include "core/data/csv_reader.h"
#include "core/job/chained_config.h"
#include "core/job/config_reader.h"
#include "core/node/node_task.h"
#include "core/regular_file.h"
#include "core/text.h"

namespace dim::cli {
namespace {

using nlohmann::json;

struct SubmitOptions {
  std::string pattern;
  std::string config_file;
  std::string config_json;
  std::vector<std::string> models;
  std::vector<std::string> nodes;
  std::string node;
  std::string dataset;
  std::vector<std::string> columns;
  std::string aggregation;
  double trim = std::numeric_limits<double>::quiet_NaN();        // NaN: not given
  double dp_epsilon = std::numeric_limits<double>::quiet_NaN();  // NaN: not given
  std::vector<double> dp_clip;
  int min_nodes = 0;
  std::string consensus;
  std::vector<double> weights;
  double min_agreement = std::numeric_limits<double>::quiet_NaN();  // NaN: not given
  std::string input_data;  // chained: a CSV file (or -) whose rows become input_data
  std::string priority = "normal";
  std::string user;
  bool wait = false;
  bool dry_run = false;
  double timeout = 0;
  bool quiet = false;
};

core::Result<std::unique_ptr<JobBackend>> OpenBackend(const GlobalOptions& options) {
  if (options.local) return MakeLocalBackend(options);
  return MakeRemoteBackend(options);
}

// The config as a JSON object; `where` names its source in messages.
core::Result<json> ParseConfigText(const std::string& text, const std::string& where) {
  auto parsed = core::ParseJsonText(text);
  if (!parsed.ok()) return parsed.status().WithPrefix(where);
  if (!parsed->is_object()) return core::Status::InvalidArgument(where + ": expected a JSON object");
  return parsed;
}

// Sets `key` (snake_case), dropping a camelCase spelling the user may have given.
void SetKey(json& config, const std::string& key, const std::string& camel, json value) {
  if (!camel.empty()) config.erase(camel);
  config[key] = std::move(value);
}

// A number from a flag as JSON: whole numbers as integers, so that messages quote "2", not
// "2.0", as the user wrote it.
json FlagNumber(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return static_cast<int64_t>(v);
  return v;
}

// --weights as a JSON array, for aggregation.weights or consensus.weights.
json WeightsJson(const std::vector<double>& weights) {
  json out = json::array();
  for (double w : weights) out.push_back(FlagNumber(w));
  return out;
}

// --aggregation, --weights (collaborative), --trim, --dp-epsilon and --dp-clip, on top of the
// config's "aggregation" (an object, or a method's name, which becomes {"method": name}). An
// "aggregation" of another type is left for the config's parser to report.
core::Status SetAggregation(json& config, const SubmitOptions& o) {
  const bool has_trim = !std::isnan(o.trim);
  const bool has_epsilon = !std::isnan(o.dp_epsilon);
  if (!o.dp_clip.empty() && o.dp_clip.size() != 2) {
    return core::Status::InvalidArgument("--dp-clip: expected LO,HI (two numbers), got " +
                                         std::to_string(o.dp_clip.size()) + " numbers");
  }
  if (o.aggregation.empty() && o.weights.empty() && !has_trim && !has_epsilon &&
      o.dp_clip.empty()) {
    return core::Status::Ok();
  }
  json& aggregation = config["aggregation"];
  if (aggregation.is_null()) aggregation = json::object();
  if (aggregation.is_string()) aggregation = json{{"method", aggregation}};
  if (!aggregation.is_object()) return core::Status::Ok();
  if (!o.aggregation.empty()) SetKey(aggregation, "method", "", o.aggregation);
  if (!o.weights.empty()) {
    SetKey(aggregation, "weights", "", WeightsJson(o.weights));
  }
  if (has_trim) SetKey(aggregation, "trim", "", FlagNumber(o.trim));
  if (has_epsilon || !o.dp_clip.empty()) {
    json& dp = aggregation.contains("differentialPrivacy") ? aggregation["differentialPrivacy"]
                                                           : aggregation["differential_privacy"];
    if (dp.is_null()) dp = json::object();
    if (!dp.is_object()) return core::Status::Ok();
    if (has_epsilon) SetKey(dp, "epsilon", "", FlagNumber(o.dp_epsilon));
    if (!o.dp_clip.empty()) {
      SetKey(dp, "clip", "", json::array({FlagNumber(o.dp_clip[0]), FlagNumber(o.dp_clip[1])}));
    }
  }
  return core::Status::Ok();
}

// --consensus, --weights and --min-agreement, on top of the config's "consensus" (an object,
// or a method's name, which becomes {"method": name}). A "consensus" of another type is left
// for the config's parser to report.
void SetConsensus(json& config, const SubmitOptions& o) {
  const bool has_min = !std::isnan(o.min_agreement);
  if (o.consensus.empty() && o.weights.empty() && !has_min) return;
  json& consensus = config["consensus"];
  if (consensus.is_null()) consensus = json::object();
  if (consensus.is_string()) consensus = json{{"method", consensus}};
  if (!consensus.is_object()) return;
  if (!o.consensus.empty()) SetKey(consensus, "method", "", o.consensus);
  if (!o.weights.empty()) {
    SetKey(consensus, "weights", "", WeightsJson(o.weights));
  }
  if (has_min) SetKey(consensus, "min_agreement", "minAgreement", FlagNumber(o.min_agreement));
}

// Flags that set keys a chained job does not have (its steps carry models and nodes).
core::Status CheckChainedFlags(const SubmitOptions& o) {
  const std::pair<bool, const char*> flags[] = {
      {!o.models.empty(), "--model"},      {!o.nodes.empty(), "--nodes"},
      {!o.node.empty(), "--node"},         {!o.dataset.empty(), "--dataset"},
      {!o.columns.empty(), "--columns"},   {o.min_nodes > 0, "--min-nodes"},
  };
  for (const auto& [given, name] : flags) {
    if (given) {
      return core::Status::InvalidArgument(
          std::string(name) +
          ": a chained job names its models, nodes and data sources in each step of its "
          "pipeline; give the pipeline with --config FILE (see dim(1))");
    }
  }
  return core::Status::Ok();
}

// The job's config_json: --config or --config-json, then the flags on top.
core::Result<std::string> BuildConfig(const SubmitOptions& o, core::Pattern pattern) {
  if (!o.config_file.empty() && !o.config_json.empty()) {
    return core::Status::InvalidArgument("give the config with --config or --config-json, not both");
  }
  json config = json::object();
  if (!o.config_file.empty()) {
    std::string text;
    if (o.config_file == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
      auto read =
          core::ReadRegularFile(o.config_file, core::kMaxConfigBytes, "--config " + o.config_file);
      if (!read.ok()) return core::Status::InvalidArgument(read.status().message());
      text = *std::move(read);
    }
    DIM_ASSIGN_OR_RETURN(config, ParseConfigText(text, "--config " + o.config_file));
  } else if (!o.config_json.empty()) {
    DIM_ASSIGN_OR_RETURN(config, ParseConfigText(o.config_json, "--config-json"));
  }
  if (pattern == core::Pattern::kChained) {
    DIM_RETURN_IF_ERROR(CheckChainedFlags(o));
  } else if (!o.input_data.empty()) {
    return core::Status::InvalidArgument("--input-data is for --pattern chained");
  }
  if (pattern == core::Pattern::kComparative) {
    if (!o.models.empty()) SetKey(config, "model_ids", "modelIds", o.models);
  } else if (o.models.size() > 1) {
    return core::Status::InvalidArgument("--model: the " + std::string(core::PatternName(pattern)) +
                                         " pattern takes one model, got " +
                                         std::to_string(o.models.size()) +
                                         " (compare models with --pattern comparative)");
  } else if (!o.models.empty()) {
    SetKey(config, "model_id", "modelId", o.models[0]);
  }
  if (!o.nodes.empty()) SetKey(config, "nodes", "", o.nodes);
  if (!o.node.empty()) SetKey(config, "node_id", "nodeId", o.node);
  if (!o.dataset.empty()) SetKey(config, "dataset", "", o.dataset);
  if (!o.columns.empty()) SetKey(config, "columns", "", o.columns);
  if (o.min_nodes > 0) SetKey(config, "min_nodes", "minNodes", o.min_nodes);
  if (pattern == core::Pattern::kCollaborative) {
    DIM_RETURN_IF_ERROR(SetAggregation(config, o));
  } else {
    if (!o.aggregation.empty() || !std::isnan(o.trim) || !std::isnan(o.dp_epsilon) ||
        !o.dp_clip.empty()) {
      return core::Status::InvalidArgument(
          "--aggregation, --trim, --dp-epsilon and --dp-clip are for --pattern collaborative");
    }
    if (pattern == core::Pattern::kChained &&
        (!o.consensus.empty() || !o.weights.empty() || !std::isnan(o.min_agreement))) {
      return core::Status::InvalidArgument(
          "--consensus, --weights and --min-agreement are for --pattern comparative");
    }
    SetConsensus(config, o);
  }
  return core::DumpJson(config);
}

// $USER, for an orchestrator that does not authenticate users; with credentials (a token or
// a client certificate) none is sent, and the orchestrator records who they name.
std::string DefaultUser(const GlobalOptions& options) {
  if (!options.local &&
      (!options.token.empty() || !options.token_file.empty() || !options.tls_cert.empty())) {
    return "";
  }
  const char* user = std::getenv("USER");
  return user && *user ? user : "";
}

int PrintFinished(const GlobalOptions& options, const core::JobRecord& job, bool quiet) {
  if (quiet) {
    std::cout << job.id << '\n';
  } else if (options.output == OutputFormat::kJson) {
    PrintJson(JobToJson(job, true));
  } else if (job.state == core::JobState::kCompleted ||
             (job.pattern == core::Pattern::kChained && !job.result_json.empty())) {
    // A failed pipeline keeps its trace: which step failed where, after how many attempts.
    PrintResult(job, std::cout);
  } else {
    PrintJob(job, std::cout);
  }
  if (job.state == core::JobState::kFailed) {
    // On a terminal the table above has just shown the error: it is not said again.
    const bool shown = !quiet && options.output == OutputFormat::kTable && isatty(STDOUT_FILENO);
    std::cerr << "dim: job " << job.id << " failed" << (shown ? "" : ": " + job.error) << '\n';
  }
  if (job.state == core::JobState::kCancelled) std::cerr << "dim: job " << job.id << " was cancelled\n";
  return ExitCodeFor(job.state);
}

// What WaitAndPrint shows of the job once it ended.
enum class WaitOutput { kResult, kQuiet, kStatus };

// Follows a job to its end, with live progress on a terminal; exit code by its final state.
int WaitAndPrint(const GlobalOptions& options, JobBackend& backend, const std::string& id,
                 double timeout_seconds, WaitOutput output) {
  const bool quiet = output == WaitOutput::kQuiet;
  const auto timeout = timeout_seconds > 0
                           ? std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000))
                           : std::chrono::milliseconds(std::chrono::hours(24 * 365));
  auto job = backend.Wait(id, timeout, [&](const core::JobRecord& j) {
    if (quiet || options.output == OutputFormat::kJson) return;
    PrintProgress(j);
  });
  if (!job.ok()) {
    if (job.status().code() == core::StatusCode::kDeadlineExceeded) {
      ReportError(options, core::Status::DeadlineExceeded(
                               job.status().message() + " after waiting " +
                               core::FormatDuration(timeout_seconds) +
                               "; follow it with: dim status " + id));
      return kExitWaitTimeout;
    }
    return ReportError(options, job.status());
  }
  if (output == WaitOutput::kStatus) {
    if (options.output == OutputFormat::kJson) {
      PrintJson(JobToJson(*job, false));
    } else {
      PrintJob(*job, std::cout);
    }
    return ExitCodeFor(job->state);
  }
  return PrintFinished(options, *job, quiet);
}

// `submit --dry-run`: each node's verdict; exit 0 only when every node would accept.
int PrintDryRun(const GlobalOptions& options, JobBackend& backend,
                const core::SubmitRequest& request) {
  auto report = backend.DryRun(request);
  if (!report.ok()) return ReportError(options, report.status());
  bool all = !report->empty();
  json nodes = json::array();
  Table t({"NODE", "STEP", "VERDICT", "EPSILON", "BUDGET LEFT", "WHY NOT"});
  for (const auto& n : *report) {
    const bool accepted = n.verdict.ok() && n.verdict->refusal.ok();
    all = all && accepted;
    const core::Status why = !n.verdict.ok() ? n.verdict.status() : n.verdict->refusal;
    json entry = {{"node_id", n.node_id}, {"accepted", accepted}};
    if (!n.step.empty()) entry["step"] = n.step;
    if (n.verdict.ok()) {
      entry["epsilon"] = n.verdict->epsilon;
      entry["budget_left"] = n.verdict->has_budget ? json(n.verdict->budget_left) : json(nullptr);
    } else {
      entry["asked"] = false;
    }
    if (!why.ok()) {
      entry["error"] = {{"code", std::string(core::StatusCodeName(why.code()))},
                        {"message", why.message()}};
    }
    nodes.push_back(std::move(entry));
    t.AddRow({n.node_id, n.step.empty() ? "-" : n.step,
              accepted ? "would accept" : (n.verdict.ok() ? "would refuse" : "not asked"),
              n.verdict.ok() && n.verdict->epsilon > 0 ? core::ShortNumber(n.verdict->epsilon) : "-",
              n.verdict.ok() && n.verdict->has_budget ? core::ShortNumber(n.verdict->budget_left) : "-",
              why.ok() ? "-" : why.ToString()});
  }
  if (options.output == OutputFormat::kJson) {
    PrintJson({{"dry_run", true}, {"accepted", all}, {"nodes", std::move(nodes)}});
  } else {
    t.Print(std::cout);
    std::cout << (all ? "every node would accept this job (nothing ran, nothing was spent)\n"
                      : "not every node would accept this job (nothing ran, nothing was spent)\n");
  }
  return all ? kExitOk : kExitJobFailed;
}

int RunSubmit(const GlobalOptions& options, const SubmitOptions& o) {
  SetUpLogging(options, "warn");
  core::SubmitRequest request;
  auto pattern = core::ParsePattern(o.pattern);
  if (!pattern) {
    return ReportError(options, core::Status::InvalidArgument(
                                    "--pattern must be collaborative, comparative or chained"));
  }
  request.pattern = *pattern;
  request.priority = core::ParsePriority(o.priority).value_or(core::Priority::kNormal);
  request.user_id = o.user.empty() ? DefaultUser(options) : o.user;
  auto config = BuildConfig(o, request.pattern);
  if (!config.ok()) return ReportError(options, config.status());
  request.config_json = *config;
  // Rows are sent beside the config as binary, not as JSON text inside it: in the submit
  // itself when they fit one message, else streamed a chunk at a time.
  std::unique_ptr<RowsFileReader> reader;
  std::optional<core::ClientData> second;
  if (!o.input_data.empty()) {
    auto opened = RowsFileReader::Open(o.input_data);
    if (!opened.ok()) return ReportError(options, opened.status());
    reader = std::move(*opened);
    auto first = reader->Next(core::kMaxClientValues);
    if (!first.ok()) return ReportError(options, first.status());
    auto next = reader->Next(core::kMaxClientValues);
    if (!next.ok()) return ReportError(options, next.status());
    request.input_rows = std::make_shared<const core::ClientData>(**std::move(first));
    second = *std::move(next);
  }

  auto backend = OpenBackend(options);
  if (!backend.ok()) return ReportError(options, backend.status());
  // A dry run checks the job with its first rows.
  if (o.dry_run) return PrintDryRun(options, **backend, request);
  core::Result<core::JobRecord> job = core::Status::Ok();
  if (second) {
    std::shared_ptr<const core::ClientData> first = std::move(request.input_rows);
    request.input_rows.reset();
    int handed = 0;
    core::RowSource source = [&]() -> core::Result<std::optional<core::ClientData>> {
      ++handed;
      if (handed == 1) return std::optional<core::ClientData>(*first);
      if (handed == 2) return std::move(second);
      return reader->Next(core::kMaxClientValues);
    };
    job = (*backend)->SubmitStreamed(request, source, reader->size_bytes());
  } else {
    job = (*backend)->Submit(request);
  }
  if (!job.ok()) return ReportError(options, job.status());
  // In-process, this process is the engine: it always stays to the end of the job.
  if (o.wait || options.local) {
    return WaitAndPrint(options, **backend, job->id, o.timeout,
                        o.quiet ? WaitOutput::kQuiet : WaitOutput::kResult);
  }
  if (o.quiet) {
    std::cout << job->id << '\n';
  } else if (options.output == OutputFormat::kJson) {
    PrintJson(JobToJson(*job, false));
  } else {
    std::cout << "submitted " << job->id << " (" << core::JobStateName(job->state) << ")\n";
  }
  return kExitOk;
}

int RunStatus(const GlobalOptions& options, const std::string& id, bool watch, double timeout,
              bool events) {
  SetUpLogging(options, "warn");
  auto backend = OpenBackend(options);
  if (!backend.ok()) return ReportError(options, backend.status());
  if (watch) {
    const int code = WaitAndPrint(options, **backend, id, timeout, WaitOutput::kStatus);
    if (!events || options.output == OutputFormat::kJson) return code;
  }
  auto job = (*backend)->Get(id);
  if (!job.ok()) return ReportError(options, job.status());
  if (options.output == OutputFormat::kJson) {
    auto doc = JobToJson(*job, false);
    if (events) doc["events"] = JobEventsToJson(*job);
    PrintJson(doc);
  } else if (events) {
    PrintJobEvents(*job, std::cout);
  } else {
    PrintJob(*job, std::cout);
  }
  return kExitOk;
}

int RunResult(const GlobalOptions& options, const std::string& id, const std::string& rows_out) {
  SetUpLogging(options, "warn");
  auto backend = OpenBackend(options);
  if (!backend.ok()) return ReportError(options, backend.status());
  auto job = (*backend)->Get(id);
  if (!job.ok()) return ReportError(options, job.status());
  if (job->state != core::JobState::kCompleted) {
    if (core::IsTerminal(job->state)) return PrintFinished(options, *job, false);
    return ReportError(options, core::Status::FailedPrecondition(
                                    "job '" + id + "' is " + std::string(core::JobStateName(job->state)) +
                                    "; it has no result yet (wait with: dim status " + id + ")"));
  }
  if (!rows_out.empty() && job->output_stream) {
    const core::RowStream& shape = *job->output_stream;
    auto writer = RowsFileWriter::Open(rows_out, shape.rows, shape.width, shape.columns);
    if (!writer.ok()) return ReportError(options, writer.status());
    core::Status s = (*backend)->ReadOutputRows(
        *job, [&](const core::ClientData& rows) { return (*writer)->Append(rows); });
    if (s.ok()) s = (*writer)->Close();
    if (!s.ok()) return ReportError(options, s);
  } else if (!rows_out.empty()) {
    if (!job->output_rows) {
      return ReportError(options, core::Status::FailedPrecondition(
                                      "--rows-out: job '" + id +
                                      "' has no output rows (only a pipeline over client rows, "
                                      "--input-data or input_data, returns them)"));
    }
    if (core::Status s = WriteRowsFile(rows_out, *job->output_rows); !s.ok()) {
      return ReportError(options, s);
    }
  }
  return PrintFinished(options, *job, false);
}

int RunList(const GlobalOptions& options, const std::string& state, const core::JobQuery& q) {
  SetUpLogging(options, "warn");
  core::JobQuery query = q;
  if (!state.empty()) {
    auto parsed = core::ParseJobState(state);
    if (!parsed) {
      return ReportError(options, core::Status::InvalidArgument(
                                      "--state must be pending, running, completed, failed or cancelled"));
    }
    query.state = *parsed;
  }
  auto backend = OpenBackend(options);
  if (!backend.ok()) return ReportError(options, backend.status());
  auto page = (*backend)->List(query);
  if (!page.ok()) return ReportError(options, page.status());
  if (options.output == OutputFormat::kJson) {
    PrintJson(JobListToJson(*page, query));
  } else {
    PrintJobList(*page, query, std::cout);
  }
  return kExitOk;
}

int RunCancel(const GlobalOptions& options, const std::string& id) {
  SetUpLogging(options, "warn");
  auto backend = OpenBackend(options);
  if (!backend.ok()) return ReportError(options, backend.status());
  auto job = (*backend)->Cancel(id);
  if (!job.ok()) return ReportError(options, job.status());
  if (options.output == OutputFormat::kJson) {
    PrintJson({{"job_id", id}, {"cancelled", true}, {"state", core::JobStateName(job->state)}});
  } else {
    std::cout << "cancelled " << id << '\n';
  }
  return kExitOk;
}

struct HealthOptions {
  std::string node;
  int wait_nodes = 0;  // --wait-nodes N: until N nodes are active
  double timeout = 60;
};

int RunHealth(const GlobalOptions& options, const HealthOptions& o) {
  SetUpLogging(options, "warn");
  const std::string& node = o.node;
  auto backend = OpenBackend(options);
  if (!backend.ok()) return ReportError(options, backend.status());
  auto report = (*backend)->Health();
  if (o.wait_nodes > 0) {
    // For scripts: the orchestrator may still be starting (unreachable), and the daemons
    // registering; asked again every 100 ms until enough nodes are active, or the timeout.
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(static_cast<int64_t>(o.timeout * 1000));
    const auto active = [&] {
      if (!report.ok()) return 0;
      return static_cast<int>(std::count_if(report->nodes.begin(), report->nodes.end(),
                                             [](const auto& n) { return n.active; }));
    };
    while (active() < o.wait_nodes) {
      if (!report.ok() && report.status().code() != core::StatusCode::kUnavailable) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        ReportError(options, core::Status::DeadlineExceeded(
                                 std::to_string(active()) + " of " +
                                 std::to_string(o.wait_nodes) + " nodes active after waiting " +
                                 core::FormatDuration(o.timeout) +
                                 (report.ok() ? std::string()
                                              : " (" + report.status().message() + ")")));
        return kExitWaitTimeout;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      report = (*backend)->Health();
    }
  }
  if (!report.ok()) return ReportError(options, report.status());
  if (!node.empty()) {
    std::erase_if(report->nodes, [&](const core::NodeDescription& n) { return n.id != node; });
    if (report->nodes.empty()) {
      return ReportError(options, core::Status::NotFound("node '" + node + "' not found"));
    }
  }
  if (options.output == OutputFormat::kJson) {
    PrintJson(HealthToJson(*report));
  } else {
    PrintHealth(*report, std::cout, /*detail=*/!node.empty());
  }
  return kExitOk;
}

}  // namespace

void AddJobCommands(CLI::App& app, GlobalOptions& options, int& exit_code) {
  auto s = std::make_shared<SubmitOptions>();
  auto* submit = app.add_subcommand("submit", "Submit a job");
  submit->add_option("-p,--pattern", s->pattern, "collaborative, comparative or chained")
      ->required()
      ->type_name("PATTERN");
  submit->add_option("-c,--config", s->config_file, "Job config JSON file, or - for stdin")
      ->type_name("FILE");
  submit->add_option("--config-json", s->config_json, "Job config as a JSON string")
      ->type_name("JSON");
  submit
      ->add_option("--input-data", s->input_data,
                   "Chained: the job's rows, read by steps with input_source client_data and "
                   "sent as binary: CSV with a header (or - for stdin), or NumPy .npy")
      ->type_name("FILE");
  // Not "--models": that is the global option naming the model folder of --local.
  submit
      ->add_option("-m,--model", s->models,
                   "Model id (config key model_id); comparative: repeat it or separate ids with "
                   "commas (config key model_ids)")
      ->delimiter(',')
      ->check(Name())
      ->type_name("MODEL");
  submit->add_option("--nodes", s->nodes, "Node ids, comma-separated (config key nodes)")
      ->delimiter(',')
      ->check(Name())
      ->type_name("NODE,...");
  submit
      ->add_option("--node", s->node,
                   "Comparative: the node that holds the data (config key node_id)")
      ->check(Name())
      ->type_name("NODE");
  submit->add_option("--dataset", s->dataset, "Dataset name on the nodes (config key dataset)")
      ->check(Name())
      ->type_name("DATASET");
  submit
      ->add_option("--columns", s->columns, "Feature columns, comma-separated (config key columns)")
      ->delimiter(',')
      ->check(Name())
      ->type_name("COLUMN,...");
  submit
      ->add_option("--aggregation", s->aggregation,
                   "Collaborative: federated_averaging, weighted_average, median or "
                   "trimmed_mean (config key aggregation.method)")
      ->type_name("METHOD");
  submit
      ->add_option("--trim", s->trim,
                   "Collaborative trimmed_mean: fraction of nodes dropped from each end, in "
                   "[0, 0.5) (config key aggregation.trim, default 0.1)")
      ->check(FiniteNumber());
  submit
      ->add_option("--dp-epsilon", s->dp_epsilon,
                   "Collaborative: differential privacy budget per node task (config key "
                   "aggregation.differential_privacy.epsilon)")
      ->check(FiniteNumber());
  submit
      ->add_option("--dp-clip", s->dp_clip,
                   "Collaborative: clip model outputs to LO,HI before the noisy summary (config "
                   "key aggregation.differential_privacy.clip)")
      ->delimiter(',')
      ->check(FiniteNumber())
      ->type_name("LO,HI");
  submit->add_option("--min-nodes", s->min_nodes, "Quorum of nodes that must succeed")
      ->check(CLI::Range(1, static_cast<int>(core::kMaxNodesPerJob)));
  submit
      ->add_option("--consensus", s->consensus,
                   "Comparative: majority_vote, weighted_vote, average, unanimous or "
                   "expert_review (config key consensus.method)")
      ->type_name("METHOD");
  submit
      ->add_option("--weights", s->weights,
                   "Comparative weighted_vote: one weight per model (config key "
                   "consensus.weights); collaborative weighted_average: one weight per node of "
                   "--nodes, in order (config key aggregation.weights); comma-separated")
      ->delimiter(',')
      ->check(FiniteNumber())
      ->type_name("W,...");
  submit
      ->add_option("--min-agreement", s->min_agreement,
                   "Comparative expert_review: flag rows where fewer than this fraction of the "
                   "models agree (config key consensus.min_agreement, default 1)")
      ->check(FiniteNumber());
  submit->add_option("--priority", s->priority, "low, normal or high")
      ->check(CLI::IsMember({"low", "normal", "high"}, CLI::ignore_case))
      ->capture_default_str();
  submit
      ->add_option("--user", s->user,
                   "User id recorded with the job (default $USER; with a token or client "
                   "certificate, the user they name)")
      ->check(Utf8Text())
      ->type_name("USER");
  submit->add_flag("-w,--wait", s->wait, "Follow the job until it ends; exit code by its state");
  submit->add_flag("--dry-run", s->dry_run,
                   "Ask the job's nodes whether they would accept it (at what epsilon, with what "
                   "budget left); run and store nothing; exit 0 only if all would");
  submit
      ->add_option("--timeout", s->timeout, "With --wait: give up after this many seconds (exit 7)")
      ->check(Seconds());
  submit->add_flag("-q,--quiet", s->quiet, "Print only the job id");
  submit->callback([&, s] { exit_code = RunSubmit(options, *s); });

  struct StatusOptions {
    std::string id;
    bool watch = false;
    double timeout = 0;
    bool events = false;
  };
  auto st = std::make_shared<StatusOptions>();
  auto* status = app.add_subcommand("status", "Show a job's state, progress and nodes");
  status->add_option("job", st->id, "Job id")->required();
  status->add_flag("-w,--watch", st->watch,
                   "Follow the job until it ends (live progress on a terminal); exit code by "
                   "its state");
  status
      ->add_option("--timeout", st->timeout,
                   "With --watch: give up after this many seconds (exit 7)")
      ->check(Seconds());
  status->add_flag("--events", st->events,
                   "Show the job's timeline: submitted, queued, started, each node task's start "
                   "and end, retries and fallbacks, cancel requests (by whom), its end");
  status->callback(
      [&, st] { exit_code = RunStatus(options, st->id, st->watch, st->timeout, st->events); });

  auto result_id = std::make_shared<std::string>();
  auto* result = app.add_subcommand("result", "Show a finished job's result");
  result->add_option("job", *result_id, "Job id")->required();
  auto rows_out = std::make_shared<std::string>();
  result
      ->add_option("--rows-out", *rows_out,
                   "Write a pipeline's output rows to FILE: NumPy .npy (float32), or CSV")
      ->type_name("FILE");
  result->callback(
      [&, result_id, rows_out] { exit_code = RunResult(options, *result_id, *rows_out); });

  auto query = std::make_shared<core::JobQuery>();
  auto state = std::make_shared<std::string>();
  auto* ls = app.add_subcommand("ls", "List jobs, newest first");
  ls->add_option("--state", *state, "Only jobs in this state")
      ->type_name("pending|running|completed|failed|cancelled");
  ls->add_option("--user", query->user_id, "Only this user's jobs")
      ->check(Utf8Text())
      ->type_name("USER");
  ls->add_option("-n,--limit", query->limit, "Jobs per page")->check(CLI::Range(1, 1000))->capture_default_str();
  ls->add_option("--offset", query->offset, "Jobs to skip")
      ->check(CLI::Range(0, std::numeric_limits<int>::max()));
  ls->callback([&, query, state] { exit_code = RunList(options, *state, *query); });

  auto cancel_id = std::make_shared<std::string>();
  auto* cancel = app.add_subcommand("cancel", "Cancel a pending or running job");
  cancel->add_option("job", *cancel_id, "Job id")->required();
  cancel->callback([&, cancel_id] { exit_code = RunCancel(options, *cancel_id); });

  auto h = std::make_shared<HealthOptions>();
  auto* health = app.add_subcommand("health", "Show the orchestrator and its nodes");
  health->add_option("--node", h->node, "Only this node, in full")->type_name("NODE");
  health
      ->add_option("--wait-nodes", h->wait_nodes,
                   "Wait until this many nodes are active (for scripts); exit 7 on --timeout")
      ->check(CLI::Range(1, 1000000));
  health->add_option("--timeout", h->timeout, "With --wait-nodes: give up after this many seconds")
      ->check(Seconds())
      ->capture_default_str();
  health->callback([&, h] { exit_code = RunHealth(options, *h); });
}

}  // namespace dim::cli
