// Runs a node task where the data lives: stream the dataset, infer, summarise.
#pragma once

#include <cstdint>

#include "core/node/cancel_token.h"
#include "core/node/dataset_catalog.h"
#include "core/node/model_repository.h"
#include "core/node/node_task.h"
#include "core/stats/summary.h"

namespace dim::core {

// Memory is bounded by batch_rows, whatever the dataset's length. Checks `cancel` between
// batches (CANCELLED). Errors: NOT_FOUND (model, dataset), INVALID_ARGUMENT (bad rows,
// column count that does not match the model's input width, unknown column).
Result<Summary> RunSummaryTask(ModelRepository& models, const DatasetCatalog& datasets,
                               const NodeTask& task, const CancelToken& cancel,
                               int64_t batch_rows = 4096);

}  // namespace dim::core
