#include "core/node/task_runner.h"

#include <algorithm>
#include <string>

namespace dim::core {
namespace {

// The error for a dataset whose width is not the model's. Without a column selection it
// points at the header (line 1) and the first column that is missing or one too many.
Status WidthMismatch(const DatasetEntry& dataset, const CsvReader& reader, const NodeTask& task,
                     int64_t expected) {
  const int64_t width = reader.width();
  const std::string counts = std::to_string(width) + " feature columns but model '" +
                             task.model_id + "' expects " + std::to_string(expected);
  if (!task.columns.empty()) {
    return Status::InvalidArgument("dataset '" + dataset.name + "': \"columns\" selects " +
                                   counts);
  }
  std::string where = dataset.path.filename().string() + " line 1 (header), column " +
                      std::to_string(std::min(width, expected) + 1);
  if (width > expected) where += " '" + reader.header()[static_cast<size_t>(expected)] + "'";
  return Status::InvalidArgument("dataset '" + dataset.name + "': " + where + ": the header has " +
                                 counts + " (choose them with \"columns\")");
}

}  // namespace

Result<Summary> RunSummaryTask(ModelRepository& models, const DatasetCatalog& datasets,
                               const NodeTask& task, const CancelToken& cancel,
                               int64_t batch_rows) {
  DIM_ASSIGN_OR_RETURN(auto model, models.Get(task.model_id));
  DIM_ASSIGN_OR_RETURN(DatasetEntry dataset, datasets.Find(task.dataset));
  DIM_ASSIGN_OR_RETURN(auto reader, CsvReader::Open(dataset.path));
  DIM_RETURN_IF_ERROR(
      reader->SelectColumns(task.columns).WithPrefix("dataset '" + dataset.name + "'"));
  if (reader->width() != model->input_width()) {
    return WidthMismatch(dataset, *reader, task, model->input_width());
  }
  const bool classify = task.task == "classification" ||
                        (task.task.empty() && model->output_width() > 1);
  SummaryBuilder summary(classify);
  Matrix batch;
  for (;;) {
    if (cancel.cancelled()) return Status::Cancelled("task cancelled");
    DIM_ASSIGN_OR_RETURN(int64_t rows, reader->ReadBatch(batch_rows, &batch));
    if (rows == 0) break;
    DIM_ASSIGN_OR_RETURN(Matrix outputs, model->Run(batch));
    DIM_RETURN_IF_ERROR(summary.Add(outputs));
  }
  return summary.Finish();
}

}  // namespace dim::core
