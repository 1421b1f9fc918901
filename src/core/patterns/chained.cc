#include "core/patterns/chained.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "core/job/config_reader.h"
#include "core/stats/summary.h"

namespace dim::core {
namespace {

using json = nlohmann::json;
using std::chrono::steady_clock;

// What is known of one step while the pipeline runs.
struct StepState {
  TaskState state = TaskState::kSkipped;
  std::string node_id;
  int attempts = 0;
  double seconds = 0;
  std::string error;
  std::vector<std::string> attempt_errors;
  std::optional<Summary> summary;
  std::vector<int64_t> shape;
  // The output rows, for a step whose rows came from the client; a later step may read them.
  std::optional<Matrix> rows;
};

// How a step's input is made on its node: the root source of its chain of step outputs.
struct Lineage {
  const ChainedStep* root = nullptr;           // the step that reads a dataset or client_data
  std::vector<std::string> through;            // models between the root's input and the step
  const ChainedStep* parent = nullptr;         // the step whose output is read, if any
};

Lineage Trace(const ChainedConfig& config, const ChainedStep& step) {
  Lineage lineage;
  const ChainedStep* at = &step;
  while (at->source.kind == StepSource::Kind::kStepOutput) {
    const ChainedStep& read = config.steps.at(static_cast<size_t>(at->source.step - 1));
    if (lineage.parent == nullptr) lineage.parent = &read;
    lineage.through.insert(lineage.through.begin(), read.model_id);
    at = &read;
  }
  lineage.root = at;
  return lineage;
}

// The task of `step` under `task_id`, reading its dataset through its lineage when its root
// reads one; a step over rows (the client's, or an earlier step's) gets them from its caller.
NodeTask StepTask(const std::string& task_id, const ChainedStep& step, const Lineage& lineage) {
  NodeTask task;
  task.job_id = task_id;
  task.kind = NodeTaskKind::kStep;
  task.model_id = step.model_id;
  const ChainedStep& root = *lineage.root;
  if (root.source.kind == StepSource::Kind::kDataset) {
    task.dataset = root.source.dataset;
    task.columns = root.columns;
    task.through = lineage.through;
  }
  return task;
}

// The client's rows with the root step's column selection applied.
Result<Matrix> ClientRows(const ClientData& data, const std::vector<std::string>& columns) {
  Matrix all = Eigen::Map<const Matrix>(data.values.data(), data.rows, data.width);
  if (columns.empty()) return all;
  Matrix out(data.rows, static_cast<Eigen::Index>(columns.size()));
  for (size_t c = 0; c < columns.size(); ++c) {
    auto it = std::find(data.columns.begin(), data.columns.end(), columns[c]);
    if (it == data.columns.end()) {
      return Status::InvalidArgument("input_data has no column '" + columns[c] + "'");
    }
    out.col(static_cast<Eigen::Index>(c)) = all.col(it - data.columns.begin());
  }
  return out;
}

// The pipeline's document from its steps' states. The output rows are moved to *rows_out
// when given, put into the document otherwise.
json PipelineDocument(const ChainedConfig& config, std::vector<StepState>& states, bool with_output,
                      std::optional<Matrix>* rows_out) {
  json trace = json::array();
  for (size_t i = 0; i < config.steps.size(); ++i) {
    const ChainedStep& step = config.steps[i];
    const StepState& st = states[i];
    json entry = {{"step", step.step},
                  {"name", step.name},
                  {"model_id", step.model_id},
                  {"node_id", st.node_id.empty() ? step.node_id : st.node_id},
                  {"input_source", StepSourceText(step.source)},
                  {"status", TaskStateName(st.state)},
                  {"attempts", st.attempts},
                  {"duration", FormatDuration(st.seconds)},
                  {"output_shape", st.shape.empty() ? json(nullptr) : json(st.shape)},
                  {"error", st.error},
                  {"attempt_errors", st.attempt_errors}};
    trace.push_back(std::move(entry));
  }
  json doc = {{"pattern", "chained"},
              {"steps", config.steps.size()},
              {"on_failure", OnFailureName(config.error_handling.on_failure)}};
  if (with_output) {
    StepState& last = states.back();
    doc["output"] = last.summary ? SummaryToJson(*last.summary) : json(nullptr);
    doc["output_shape"] = last.shape;
    if (last.rows && rows_out != nullptr) {
      *rows_out = std::move(last.rows);
      last.rows.reset();
    } else if (last.rows) {
      doc["output_rows"] = RowsToJson(*last.rows);
    }
  }
  doc["pipeline_trace"] = std::move(trace);
  return doc;
}

}  // namespace

Result<std::vector<std::pair<std::string, NodeTask>>> ChainedDryRunTasks(
    const std::string& job_id, const ChainedConfig& config) {
  std::vector<std::pair<std::string, NodeTask>> out;
  for (const ChainedStep& step : config.steps) {
    const Lineage lineage = Trace(config, step);
    const ChainedStep& root = *lineage.root;
    NodeTask task =
        StepTask(job_id + ".step" + std::to_string(step.step) + ".dryrun", step, lineage);
    if (root.source.kind != StepSource::Kind::kDataset && config.input_data) {
      DIM_ASSIGN_OR_RETURN(task.input_rows, ClientRows(*config.input_data, root.columns));
    }
    out.emplace_back(step.node_id, std::move(task));
  }
  return out;
}

namespace {

class PipelineRun {
 public:
  PipelineRun(const std::string& job_id, const ChainedConfig& config, NodeDirectory& directory,
              const CancelToken& cancel, const Clock& clock, const NodeUpdateFn& on_update)
      : job_id_(job_id),
        config_(config),
        directory_(directory),
        cancel_(cancel),
        clock_(clock),
        on_update_(on_update),
        states_(config.steps.size()),
        start_(steady_clock::now()) {}

  // Runs every step; the first step that runs out of attempts ends the pipeline.
  Status Run() {
    for (const auto& step : config_.steps) {
      Status s = RunWithHandling(step);
      if (!s.ok()) {
        for (size_t i = static_cast<size_t>(step.step); i < states_.size(); ++i) {
          NodeTaskRecord skipped;
          skipped.node_id = config_.steps[i].node_id;
          skipped.state = TaskState::kSkipped;
          on_update_(i, skipped);
        }
        return s;
      }
    }
    return Status::Ok();
  }

  // The output rows go to *rows_out when given, into the document otherwise.
  json Document(bool with_output, std::optional<Matrix>* rows_out = nullptr) {
    return PipelineDocument(config_, states_, with_output, rows_out);
  }

  std::vector<StepState>& states() { return states_; }

 private:
  StepState& State(const ChainedStep& step) { return states_.at(static_cast<size_t>(step.step - 1)); }

  // The node of a step's attempt (1-based): [node_id, fallbacks...], cycling.
  std::string NodeFor(const ChainedStep& step, int attempt) const {
    std::vector<std::string> nodes = {step.node_id};
    if (auto it = config_.error_handling.fallback_nodes.find(step.step);
        it != config_.error_handling.fallback_nodes.end()) {
      nodes.insert(nodes.end(), it->second.begin(), it->second.end());
    }
    return nodes[static_cast<size_t>(attempt - 1) % nodes.size()];
  }

  std::string Label(const ChainedStep& step) const {
    return "step " + std::to_string(step.step) + " '" + step.name + "'";
  }

  Status RunWithHandling(const ChainedStep& step) {
    const ErrorHandling& handling = config_.error_handling;
    const int allowed = 1 + (handling.on_failure == OnFailure::kFailFast ? 0 : handling.max_retries);
    Status last = Status::Ok();
    for (int attempt = 1; attempt <= allowed; ++attempt) {
      if (attempt > 1) {
        Pause(attempt - 1);
        if (cancel_.cancelled()) return Status::Cancelled("job cancelled");
        if (JobTimedOut()) {
          return Status::DeadlineExceeded("the job ran past its timeout of " +
                                          FormatDuration(config_.timeout_seconds) +
                                          " before retrying " + Label(step) + ": " + last.ToString());
        }
      }
      if (attempt > 1 && handling.on_failure == OnFailure::kRollbackAndRetry &&
          step.source.kind == StepSource::Kind::kStepOutput) {
        const ChainedStep& previous = config_.steps.at(static_cast<size_t>(step.source.step - 1));
        Status rolled = RunOnce(previous, State(previous).node_id);
        if (IsFinal(rolled)) return rolled;
        if (!rolled.ok()) {
          State(step).attempt_errors.push_back("rollback of " + Label(previous) + ": " +
                                               rolled.ToString());
          last = rolled;
          continue;
        }
      }
      last = RunOnce(step, NodeFor(step, attempt));
      if (last.ok() || IsFinal(last)) return last;
    }
    StepState& st = State(step);
    return Status::FailedPrecondition(Label(step) + " failed on node '" + st.node_id +
                                      "' after " + std::to_string(st.attempts) +
                                      (st.attempts == 1 ? " attempt: " : " attempts: ") +
                                      st.error);
  }

  // Waits before retry n: 100 ms, doubling, at most 2 s; returns early on cancel or when
  // the job's time is up.
  void Pause(int retry) const {
    const auto wait = std::chrono::milliseconds(std::min(2000, 100 << std::min(retry - 1, 5)));
    const auto until = steady_clock::now() + wait;
    while (steady_clock::now() < until && !cancel_.cancelled() && !JobTimedOut()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // Errors that end the pipeline whatever the error handling says.
  bool IsFinal(const Status& s) const {
    return s.code() == StatusCode::kCancelled || cancel_.cancelled() || JobTimedOut();
  }

  bool JobTimedOut() const {
    return config_.timeout_seconds > 0 &&
           std::chrono::duration<double>(steady_clock::now() - start_).count() >=
               config_.timeout_seconds;
  }

  // The node task of one attempt of `step` on `node_id`.
  Result<NodeTask> TaskFor(const ChainedStep& step, int attempt) const {
    const Lineage lineage = Trace(config_, step);
    const ChainedStep& root = *lineage.root;
    NodeTask task =
        StepTask(job_id_ + ".step" + std::to_string(step.step) + ".try" + std::to_string(attempt),
                 step, lineage);
    if (root.source.kind == StepSource::Kind::kDataset) return task;  // read on the node
    if (lineage.parent != nullptr) {
      const StepState& parent = states_.at(static_cast<size_t>(lineage.parent->step - 1));
      if (!parent.rows) return Status::Internal("step " + std::to_string(lineage.parent->step) + " has no output rows");
      task.input_rows = *parent.rows;
    } else {
      if (!config_.input_data) return Status::Internal("the job has no input_data");
      DIM_ASSIGN_OR_RETURN(task.input_rows, ClientRows(*config_.input_data, root.columns));
    }
    return task;
  }

  // One attempt; records it in the step's state and the job's node list.
  Status RunOnce(const ChainedStep& step, const std::string& node_id) {
    StepState& st = State(step);
    st.attempts += 1;
    st.node_id = node_id;
    st.state = TaskState::kRunning;
    auto built = TaskFor(step, st.attempts);
    if (!built.ok()) {
      st.state = TaskState::kFailed;
      st.error = built.status().ToString();
      return built.status();
    }
    NodeTask task = std::move(*built);
    double limit = step.timeout_seconds;
    bool job_limit = false;
    if (config_.timeout_seconds > 0) {
      const double left = config_.timeout_seconds -
                          std::chrono::duration<double>(steady_clock::now() - start_).count();
      if (limit == 0 || left < limit) {
        limit = std::max(left, 0.001);
        job_limit = true;
      }
    }
    const size_t index = static_cast<size_t>(step.step - 1);
    const Status deadline = Status::DeadlineExceeded(PastTimeout(step, job_limit));
    NodeUpdateFn update = [&](size_t, const NodeTaskRecord& record) {
      NodeTaskRecord r = record;
      if (r.error.code() == StatusCode::kDeadlineExceeded) r.error = deadline;
      on_update_(index, r);
    };
    auto outcomes = RunNodeTasks({NodeRunRequest{node_id, std::move(task)}}, directory_, cancel_,
                                 clock_, limit, update);
    if (!outcomes.ok()) {
      st.state = TaskState::kCancelled;
      st.error = outcomes.status().ToString();
      return outcomes.status();
    }
    NodeRunOutcome& outcome = outcomes->at(0);
    st.seconds = outcome.record.execution_seconds;
    Status result = Status::Ok();
    if (outcome.record.state == TaskState::kCompleted) {
      result = Accept(step, outcome.result, node_id, st);
    } else if (outcome.record.state == TaskState::kCancelled) {
      result = Status::Cancelled("task cancelled");
    } else if (outcome.record.error.code() == StatusCode::kDeadlineExceeded) {
      result = Status::DeadlineExceeded(PastTimeout(step, job_limit));
    } else {
      result = outcome.record.error;
    }
    if (result.ok()) {
      st.state = TaskState::kCompleted;
      st.error.clear();
      return result;
    }
    st.state = EndedState(result);
    st.error = "node '" + node_id + "': " + result.ToString();
    st.attempt_errors.push_back(st.error);
    if (job_limit && result.code() == StatusCode::kDeadlineExceeded) {
      return Status::DeadlineExceeded("the job ran past its timeout of " +
                                      FormatDuration(config_.timeout_seconds) + " in " +
                                      Label(step) + " on node '" + node_id + "'");
    }
    return result;
  }

  std::string PastTimeout(const ChainedStep& step, bool job_limit) const {
    return Label(step) + " ran past " +
           (job_limit ? "the job's timeout of " + FormatDuration(config_.timeout_seconds)
                      : "its timeout of " + FormatDuration(step.timeout_seconds));
  }

  // Takes a completed attempt's output into the step's state.
  Status Accept(const ChainedStep& step, TaskResult& result, const std::string& node_id,
                StepState& st) {
    const std::string from = "node '" + node_id + "' sent a malformed step result: ";
    auto* output = std::get_if<StepOutput>(&result);
    if (output == nullptr) return Status::Internal(from + "not a step's output");
    const bool client_rows =
        Trace(config_, step).root->source.kind == StepSource::Kind::kClientData;
    if (client_rows && !output->rows) return Status::Internal(from + "no output rows");
    if (output->rows &&
        (output->rows->rows() != output->summary.rows || output->rows->cols() != output->width)) {
      return Status::Internal(from + "output rows are not of the output's shape");
    }
    st.shape = {output->summary.rows, output->width};
    st.summary = std::move(output->summary);
    st.rows.reset();
    if (client_rows) st.rows = std::move(output->rows);
    return Status::Ok();
  }

  const std::string& job_id_;
  const ChainedConfig& config_;
  NodeDirectory& directory_;
  const CancelToken& cancel_;
  const Clock& clock_;
  const NodeUpdateFn& on_update_;
  std::vector<StepState> states_;
  steady_clock::time_point start_;
};

const NodeDescription* FindNode(const std::vector<NodeDescription>& known, const std::string& id) {
  auto it = std::find_if(known.begin(), known.end(),
                         [&](const NodeDescription& n) { return n.id == id; });
  return it == known.end() ? nullptr : &*it;
}

}  // namespace

Status CheckChainedNodes(const ChainedConfig& config, NodeDirectory& directory) {
  const auto known = directory.Describe();
  for (size_t i = 0; i < config.steps.size(); ++i) {
    const ChainedStep& step = config.steps[i];
    const std::string path = "$.pipeline[" + std::to_string(i) + "]";
    const NodeDescription* node = FindNode(known, step.node_id);
    if (node == nullptr) return UnknownNode(path + ".node_id", step.node_id, known);
    if (step.source.kind == StepSource::Kind::kDataset && !HoldsDataset(*node, step.source.dataset)) {
      return Status::NotFound(path + ".input_source: node '" + node->id + "' has no dataset '" +
                              step.source.dataset + "' (it has: " + DatasetNames(*node) + ")");
    }
    if (node->described && !HoldsModel(*node, step.model_id)) {
      return Status::NotFound(path + ".model_id: model '" + step.model_id +
                              "' not found on node '" + node->id + "'");
    }
  }
  for (const auto& [step, nodes] : config.error_handling.fallback_nodes) {
    for (size_t j = 0; j < nodes.size(); ++j) {
      if (FindNode(known, nodes[j]) == nullptr) {
        return UnknownNode(
            IndexPath(ChildPath("$.error_handling.fallback_nodes", std::to_string(step)), j),
            nodes[j], known);
      }
    }
  }
  return Status::Ok();
}

Status CheckChunkedPipeline(const ChainedConfig& config) {
  for (size_t i = 0; i < config.steps.size(); ++i) {
    const ChainedStep& root = *Trace(config, config.steps[i]).root;
    if (root.source.kind == StepSource::Kind::kDataset) {
      return Status::InvalidArgument(
          "$.pipeline[" + std::to_string(i) +
          "].input_source: a pipeline over streamed rows runs " +
          "each step once per chunk of rows, and this step reads dataset '" + root.source.dataset +
          "', which it would read again for every chunk; send at most " +
          std::to_string(kMaxClientValues) +
          " numbers, or run the dataset's steps as a job of "
          "their own");
    }
  }
  return Status::Ok();
}

namespace {

// At most this many attempt errors are kept for a step over all chunks.
constexpr size_t kMaxAttemptErrors = 20;

// Adds one chunk's state of a step to its state over the chunks so far.
Status MergeChunk(StepState& total, StepState& part) {
  total.state = part.state;
  if (!part.node_id.empty()) total.node_id = part.node_id;
  total.attempts += part.attempts;
  total.seconds += part.seconds;
  total.error = part.error;
  for (auto& e : part.attempt_errors) {
    if (total.attempt_errors.size() < kMaxAttemptErrors)
      total.attempt_errors.push_back(std::move(e));
  }
  if (part.shape.size() == 2) {
    if (total.shape.size() != 2) total.shape = {0, part.shape[1]};
    total.shape[0] += part.shape[0];
    total.shape[1] = part.shape[1];
  }
  if (part.summary) {
    if (total.summary) {
      const Summary both[] = {*total.summary, *part.summary};
      DIM_ASSIGN_OR_RETURN(Summary pooled, PoolSummaries(both));
      total.summary = std::move(pooled);
    } else {
      total.summary = std::move(part.summary);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<nlohmann::json> RunChainedOverChunks(const std::string& job_id, const ChainedConfig& config,
                                            ChunkedRows& rows, NodeDirectory& directory,
                                            const CancelToken& cancel, const Clock& clock,
                                            const NodeUpdateFn& on_update,
                                            nlohmann::json* failed_trace) {
  if (config.steps.empty()) return Status::InvalidArgument("$.pipeline: no steps");
  DIM_RETURN_IF_ERROR(CheckChunkedPipeline(config));
  const auto start = steady_clock::now();
  const int64_t chunks = rows.input_chunks();
  const int64_t total_rows = rows.input_rows();
  std::vector<StepState> total(config.steps.size());
  int64_t rows_before = 0;  // input rows of the chunks done
  const auto fail = [&](int64_t c, const Status& s) -> Status {
    if (failed_trace != nullptr) {
      *failed_trace = PipelineDocument(config, total, /*with_output=*/false, nullptr);
      (*failed_trace)["chunks"] = chunks;
    }
    if (cancel.cancelled()) return Status::Cancelled("job cancelled");
    return s.WithPrefix("chunk " + std::to_string(c + 1) + " of " + std::to_string(chunks));
  };
  for (int64_t c = 0; c < chunks; ++c) {
    if (cancel.cancelled()) return fail(c, Status::Cancelled("job cancelled"));
    ChainedConfig part = config;
    if (config.timeout_seconds > 0) {
      const double left = config.timeout_seconds -
                          std::chrono::duration<double>(steady_clock::now() - start).count();
      if (left <= 0) {
        return fail(c, Status::DeadlineExceeded("the job ran past its timeout of " +
                                                FormatDuration(config.timeout_seconds)));
      }
      part.timeout_seconds = left;
    }
    auto chunk = rows.ReadInput(c);
    if (!chunk.ok()) return fail(c, chunk.status());
    const int64_t chunk_rows = chunk->rows;
    part.input_data = *std::move(chunk);
    const bool last = c + 1 == chunks;
    NodeUpdateFn update = [&](size_t index, const NodeTaskRecord& record) {
      NodeTaskRecord shown = record;
      if (!last && shown.state == TaskState::kCompleted) shown.state = TaskState::kRunning;
      shown.rows_total = total_rows;
      const int64_t in_chunk = record.state == TaskState::kCompleted
                                   ? chunk_rows
                                   : std::clamp<int64_t>(record.rows_done, 0, chunk_rows);
      shown.rows_done = std::min(total_rows, rows_before + in_chunk);
      on_update(index, shown);
    };
    const std::string part_id = job_id + ".chunk" + std::to_string(c + 1);
    PipelineRun run(part_id, part, directory, cancel, clock, update);
    Status s = run.Run();
    for (size_t i = 0; i < total.size(); ++i) {
      if (Status merged = MergeChunk(total[i], run.states()[i]); !merged.ok() && s.ok()) {
        s = merged.WithPrefix("step " + std::to_string(i + 1));
      }
    }
    if (!s.ok()) return fail(c, s);
    StepState& out = run.states().back();
    if (!out.rows) return fail(c, Status::Internal("the last step has no output rows"));
    if (Status put = rows.AppendOutput(*out.rows); !put.ok()) return fail(c, put);
    rows_before += chunk_rows;
  }
  nlohmann::json doc = PipelineDocument(config, total, /*with_output=*/true, nullptr);
  doc["chunks"] = chunks;
  return doc;
}

Result<nlohmann::json> RunChained(const std::string& job_id, const ChainedConfig& config,
                                  NodeDirectory& directory, const CancelToken& cancel,
                                  const Clock& clock, const NodeUpdateFn& on_update,
                                  nlohmann::json* failed_trace,
                                  std::optional<Matrix>* output_rows) {
  if (config.steps.empty()) return Status::InvalidArgument("$.pipeline: no steps");
  PipelineRun run(job_id, config, directory, cancel, clock, on_update);
  Status s = run.Run();
  if (!s.ok()) {
    if (failed_trace != nullptr) *failed_trace = run.Document(/*with_output=*/false);
    if (cancel.cancelled()) return Status::Cancelled("job cancelled");
    return s;
  }
  return run.Document(/*with_output=*/true, output_rows);
}

}  // namespace dim::core
