// Runs a node task where the data lives: stream the dataset, infer, and reduce the outputs
// to figures (a summary, or a consensus vote) that may leave the node.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "core/node/cancel_token.h"
#include "core/node/dataset_catalog.h"
#include "core/node/model_repository.h"
#include "core/node/node_task.h"
#include "core/stats/consensus.h"
#include "core/stats/summary.h"

namespace dim::core {

// Memory is bounded by batch_rows, whatever the dataset's length. Checks `cancel` between
// batches (CANCELLED). Errors: NOT_FOUND (model, dataset), INVALID_ARGUMENT (bad rows,
// column count that does not match the model's input width, unknown column).
Result<Summary> RunSummaryTask(ModelRepository& models, const DatasetCatalog& datasets,
                               const NodeTask& task, const CancelToken& cancel,
                               int64_t batch_rows = 4096);

// A comparative task: every model of task.model_ids runs on the same batches of the dataset
// (read once), and the batch's rows are voted on at once (ConsensusBuilder), so memory is
// bounded by batch_rows and the models, whatever the dataset's length. Checks `cancel`
// between batches (CANCELLED). Errors: NOT_FOUND (a model, the dataset), INVALID_ARGUMENT
// (bad rows, a model whose input width is not the dataset's, two models whose output
// widths differ, naming both, or settings that CheckConsensusSettings rejects).
Result<ConsensusResult> RunComparativeTask(ModelRepository& models, const DatasetCatalog& datasets,
                                           const NodeTask& task, const CancelToken& cancel,
                                           int64_t batch_rows = 4096);

// Runs a task of either kind and returns the document that leaves the node: SummaryToJson
// for a summary task, ConsensusToJson for a comparative one. Errors as above.
Result<nlohmann::json> RunNodeTask(ModelRepository& models, const DatasetCatalog& datasets,
                                   const NodeTask& task, const CancelToken& cancel,
                                   int64_t batch_rows = 4096);

}  // namespace dim::core
