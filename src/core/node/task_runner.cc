#include "core/node/task_runner.h"

#include <string>

namespace dim::core {

Result<Summary> RunSummaryTask(ModelRepository& models, const DatasetCatalog& datasets,
                               const NodeTask& task, const CancelToken& cancel,
                               int64_t batch_rows) {
  DIM_ASSIGN_OR_RETURN(auto model, models.Get(task.model_id));
  DIM_ASSIGN_OR_RETURN(DatasetEntry dataset, datasets.Find(task.dataset));
  DIM_ASSIGN_OR_RETURN(auto reader, CsvReader::Open(dataset.path));
  DIM_RETURN_IF_ERROR(
      reader->SelectColumns(task.columns).WithPrefix("dataset '" + dataset.name + "'"));
  if (reader->width() != model->input_width()) {
    return Status::InvalidArgument(
        "dataset '" + dataset.name + "' has " + std::to_string(reader->width()) +
        " feature columns but model '" + task.model_id + "' expects " +
        std::to_string(model->input_width()) + " (choose them with \"columns\")");
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
