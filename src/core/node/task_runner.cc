#include "core/node/task_runner.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/job/chained_config.h"

namespace dim::core {
namespace {

// The error for a dataset whose width is not the model's. Without a column selection it
// points at the header (line 1) and the first column that is missing or one too many.
Status WidthMismatch(const DatasetEntry& dataset, const CsvReader& reader, const NodeTask& task,
                     const std::string& model_id, int64_t expected) {
  const int64_t width = reader.width();
  const std::string counts = std::to_string(width) + " feature columns but model '" + model_id +
                             "' expects " + std::to_string(expected);
  if (!task.columns.empty()) {
    return Status::InvalidArgument("dataset '" + dataset.name + "': \"columns\" selects " + counts);
  }
  std::string where = dataset.path.filename().string() + " line 1 (header), column " +
                      std::to_string(std::min(width, expected) + 1);
  if (width > expected) where += " '" + reader.header()[static_cast<size_t>(expected)] + "'";
  return Status::InvalidArgument("dataset '" + dataset.name + "': " + where + ": the header has " +
                                 counts + " (choose them with \"columns\")");
}

// Opens the task's dataset with its column selection, and checks that the selected width
// is every model's input width.
Result<std::unique_ptr<CsvReader>> OpenFeatures(
    const DatasetCatalog& datasets, const NodeTask& task, const std::vector<std::string>& ids,
    const std::vector<std::shared_ptr<const Model>>& models) {
  DIM_ASSIGN_OR_RETURN(DatasetEntry dataset, datasets.Find(task.dataset));
  // The dataset was read whole, and so checked to be a regular file, when it was added to
  // the catalog (a daemon refuses to start on a FIFO); a pipe put in its place since, as a
  // site's export job may do, is read as it is written, and a cancel stops the task at its
  // next batch.
  DIM_ASSIGN_OR_RETURN(auto reader, CsvReader::Open(dataset.path, CsvSource::kRegularFileOrPipe));
  DIM_RETURN_IF_ERROR(
      reader->SelectColumns(task.columns).WithPrefix("dataset '" + dataset.name + "'"));
  for (size_t m = 0; m < models.size(); ++m) {
    if (reader->width() != models[m]->input_width()) {
      return WidthMismatch(dataset, *reader, task, ids[m], models[m]->input_width());
    }
  }
  return reader;
}

Status TooFewRows(const std::string& dataset, int64_t rows, int64_t min_samples) {
  return Status::FailedPrecondition("dataset '" + dataset + "' has " + std::to_string(rows) +
                                    " rows, fewer than this node's min_samples " +
                                    std::to_string(min_samples));
}

// Whether the task's result summarises the node's own dataset (min_samples applies).
bool LeavesSummaryOfDataset(const NodeTask& task) {
  return task.kind == NodeTaskKind::kSummary ||
         (task.kind == NodeTaskKind::kStep && !task.input_rows);
}

// The next batch of a dataset's rows; errors (a row that went bad after the node checked the
// file) name the dataset, as the node's other errors do.
Result<int64_t> ReadRows(CsvReader& reader, int64_t max_rows, Matrix* out,
                         const std::string& source) {
  auto rows = reader.ReadBatch(max_rows, out);
  if (!rows.ok()) return rows.status().WithPrefix(source);
  return rows;
}

// Runs a model on a batch whose first row is row `first_row` (from 1) of `source`, naming
// the model on errors. An output that is not finite is an error that names its cause, so
// that it never leaves the node as a summary no one can read.
Result<Matrix> RunModel(const Model& model, const std::string& id, const Matrix& input,
                        const std::string& source, int64_t first_row,
                        std::vector<int64_t>* labels = nullptr) {
  if (input.cols() != model.input_width()) {
    return Status::InvalidArgument("model '" + id + "' expects " +
                                   std::to_string(model.input_width()) + " input columns, got " +
                                   std::to_string(input.cols()));
  }
  auto out = model.Run(input, labels);
  if (!out.ok()) {
    // The model's own errors name it already when its file bears the id.
    const std::string who = "model '" + id + "'";
    if (out.status().message().rfind(who, 0) == 0) return out.status();
    return out.status().WithPrefix(who);
  }
  if (!out->allFinite()) {
    for (Eigen::Index r = 0; r < out->rows(); ++r) {
      if (out->row(r).allFinite()) continue;
      const bool bad_input =
          !input.row(r).allFinite() || input.row(r).cwiseAbs().maxCoeff() > 1e30f;
      return Status::InvalidArgument(
          "model '" + id + "' gave a non-finite output (NaN or infinity) for row " +
          std::to_string(first_row + r) + " of " + source + ": " +
          (bad_input ? "the row holds values near float's limits (about 3.4e38)"
                     : "the model divides by zero or overflows on it"));
    }
  }
  return out;
}

}  // namespace

Status CheckNodePolicy(const NodePolicy& policy, const DatasetCatalog& datasets,
                       const NodeTask& task) {
  if (!LeavesSummaryOfDataset(task)) return Status::Ok();
  auto dataset = datasets.Find(task.dataset);
  if (!dataset.ok()) return Status::Ok();
  if (dataset->shape.rows < policy.min_samples) {
    return TooFewRows(dataset->name, dataset->shape.rows, policy.min_samples);
  }
  return Status::Ok();
}

Result<Summary> RunSummaryTask(ModelRepository& models, const DatasetCatalog& datasets,
                               const NodeTask& task, const CancelToken& cancel,
                               int64_t batch_rows) {
  DIM_ASSIGN_OR_RETURN(auto model, models.Get(task.model_id));
  DIM_ASSIGN_OR_RETURN(auto reader, OpenFeatures(datasets, task, {task.model_id}, {model}));
  const auto& dp = task.differential_privacy;
  if (dp) DIM_RETURN_IF_ERROR(CheckDifferentialPrivacy(*dp).WithPrefix("differential_privacy"));
  const bool classify = task.task == "classification" ||
                        (task.task.empty() && (model->output_width() > 1 || model->has_labels()));
  SummaryBuilder summary(classify);
  const std::string source = "dataset '" + task.dataset + "'";
  Matrix batch;
  // A classifier's own labels count its classes (its probabilities are the output).
  std::vector<int64_t> labels;
  std::vector<int64_t>* want_labels = classify && model->has_labels() ? &labels : nullptr;
  for (int64_t done = 0;;) {
    if (cancel.cancelled()) return Status::Cancelled("task cancelled");
    DIM_ASSIGN_OR_RETURN(int64_t rows, ReadRows(*reader, batch_rows, &batch, source));
    if (rows == 0) break;
    DIM_ASSIGN_OR_RETURN(Matrix outputs,
                         RunModel(*model, task.model_id, batch, source, done + 1, want_labels));
    done += rows;
    cancel.AddRowsDone(rows);
    if (dp) ClipOutputs(*dp, outputs);
    DIM_RETURN_IF_ERROR(summary.Add(outputs, labels));
  }
  if (!dp) return summary.Finish();
  RandomLaplaceNoise noise;
  return AddLaplaceNoise(summary.Finish(), *dp, noise);
}

Result<ConsensusResult> RunComparativeTask(ModelRepository& models, const DatasetCatalog& datasets,
                                           const NodeTask& task, const CancelToken& cancel,
                                           int64_t batch_rows) {
  DIM_RETURN_IF_ERROR(CheckConsensusSettings(task.consensus, task.model_ids.size()));
  std::vector<std::shared_ptr<const Model>> loaded;
  for (const auto& id : task.model_ids) {
    DIM_ASSIGN_OR_RETURN(auto model, models.Get(id));
    if (!loaded.empty() && model->output_width() != loaded[0]->output_width()) {
      return Status::InvalidArgument("models '" + task.model_ids[0] + "' and '" + id +
                                     "' have different output widths (" +
                                     std::to_string(loaded[0]->output_width()) + " and " +
                                     std::to_string(model->output_width()) +
                                     "): the models compared must have the same "
                                     "outputs");
    }
    loaded.push_back(std::move(model));
  }
  DIM_ASSIGN_OR_RETURN(auto reader, OpenFeatures(datasets, task, task.model_ids, loaded));
  DIM_ASSIGN_OR_RETURN(
      ConsensusBuilder vote,
      ConsensusBuilder::Create(task.consensus, loaded.size(), loaded[0]->output_width()));
  Matrix batch;
  std::vector<Matrix> outputs(loaded.size());
  const std::string source = "dataset '" + task.dataset + "'";
  for (int64_t done = 0;;) {
    if (cancel.cancelled()) return Status::Cancelled("task cancelled");
    DIM_ASSIGN_OR_RETURN(int64_t rows, ReadRows(*reader, batch_rows, &batch, source));
    if (rows == 0) break;
    for (size_t m = 0; m < loaded.size(); ++m) {
      DIM_ASSIGN_OR_RETURN(outputs[m],
                           RunModel(*loaded[m], task.model_ids[m], batch, source, done + 1));
    }
    done += rows;
    cancel.AddRowsDone(rows);
    DIM_RETURN_IF_ERROR(vote.Add(outputs));
  }
  return vote.Finish();
}

Result<StepOutput> RunStepTask(ModelRepository& models, const DatasetCatalog& datasets,
                               const NodeTask& task, const CancelToken& cancel,
                               int64_t batch_rows) {
  std::vector<std::string> ids = task.through;
  ids.push_back(task.model_id);
  std::vector<std::shared_ptr<const Model>> chain;
  for (const auto& id : ids) {
    DIM_ASSIGN_OR_RETURN(auto model, models.Get(id));
    chain.push_back(std::move(model));
  }
  const auto& last = *chain.back();
  SummaryBuilder summary(last.output_width() > 1);
  const std::string source =
      task.input_rows ? std::string("the job's input_data") : "dataset '" + task.dataset + "'";
  auto run_chain = [&](Matrix batch, int64_t first_row) -> Result<Matrix> {
    for (size_t m = 0; m < chain.size(); ++m) {
      DIM_ASSIGN_OR_RETURN(batch, RunModel(*chain[m], ids[m], batch, source, first_row));
    }
    return batch;
  };
  StepOutput out;
  if (task.input_rows) {
    const Matrix& rows = *task.input_rows;
    if (rows.rows() * last.output_width() > kMaxClientValues) {
      return Status::ResourceExhausted(
          "the step's output would hold " + std::to_string(rows.rows() * last.output_width()) +
          " numbers, more than the " + std::to_string(kMaxClientValues) + " a step may return");
    }
    if (cancel.cancelled()) return Status::Cancelled("task cancelled");
    DIM_ASSIGN_OR_RETURN(Matrix outputs, run_chain(rows, 1));
    cancel.AddRowsDone(rows.rows());
    DIM_RETURN_IF_ERROR(summary.Add(outputs));
    out.rows = std::move(outputs);
  } else {
    // The first model's width is checked against the dataset (naming the header's columns);
    // each later one against its predecessor's outputs.
    DIM_ASSIGN_OR_RETURN(auto reader, OpenFeatures(datasets, task, {ids[0]}, {chain[0]}));
    Matrix batch;
    for (int64_t done = 0;;) {
      if (cancel.cancelled()) return Status::Cancelled("task cancelled");
      DIM_ASSIGN_OR_RETURN(int64_t rows, ReadRows(*reader, batch_rows, &batch, source));
      if (rows == 0) break;
      DIM_ASSIGN_OR_RETURN(Matrix outputs, run_chain(std::move(batch), done + 1));
      done += rows;
      cancel.AddRowsDone(rows);
      DIM_RETURN_IF_ERROR(summary.Add(outputs));
      batch = Matrix();
    }
  }
  out.summary = summary.Finish();
  out.width = last.output_width();
  return out;
}

Result<TaskResult> RunNodeTask(ModelRepository& models, const DatasetCatalog& datasets,
                               const NodeTask& task, const CancelToken& cancel,
                               const NodePolicy& policy, int64_t batch_rows) {
  DIM_RETURN_IF_ERROR(CheckNodePolicy(policy, datasets, task));
  if (task.kind == NodeTaskKind::kComparative) {
    DIM_ASSIGN_OR_RETURN(ConsensusResult result,
                         RunComparativeTask(models, datasets, task, cancel, batch_rows));
    return TaskResult(std::move(result));
  }
  if (task.kind == NodeTaskKind::kStep) {
    DIM_ASSIGN_OR_RETURN(StepOutput step, RunStepTask(models, datasets, task, cancel, batch_rows));
    if (!task.input_rows && step.summary.rows < policy.min_samples) {
      return TooFewRows(task.dataset, step.summary.rows, policy.min_samples);
    }
    return TaskResult(std::move(step));
  }
  DIM_ASSIGN_OR_RETURN(Summary summary, RunSummaryTask(models, datasets, task, cancel, batch_rows));
  // The file may have shrunk since it was registered: the rows read are what count.
  if (summary.rows < policy.min_samples) {
    return TooFewRows(task.dataset, summary.rows, policy.min_samples);
  }
  return TaskResult(std::move(summary));
}

}  // namespace dim::core
