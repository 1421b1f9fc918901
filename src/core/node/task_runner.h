// Runs a node task where the data lives: stream the dataset, infer, and reduce the outputs
// to figures (a summary, or a consensus vote) that may leave the node.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "core/node/cancel_token.h"
#include "core/node/dataset_catalog.h"
#include "core/node/model_repository.h"
#include "core/node/node_task.h"
#include "core/node/task_result.h"
#include "core/stats/consensus.h"
#include "core/stats/private_summary.h"
#include "core/stats/summary.h"

namespace dim::core {

// What a node lets its data be used for: the node's own policy, enforced on the node (by
// RunNodeTask, and early by TaskQueue::Submit), never left to the orchestrator.
struct NodePolicy {
  // A summary (collaborative) task on a dataset with fewer rows is refused: a summary of a
  // handful of rows says too much about each of them. 0 or 1 allow every dataset.
  int64_t min_samples = 10;
};

// FAILED_PRECONDITION "dataset 'x' has 7 rows, fewer than this node's min_samples 10" when
// `task` is a summary task, or a step over the dataset (its summary leaves the node), and
// its dataset, as registered, has fewer rows than policy.min_samples. OK for comparative
// tasks (their votes stay on the node; only counts and row indices leave it), for steps
// over rows the client sent, and for a dataset the catalog lacks (running reports that).
Status CheckNodePolicy(const NodePolicy& policy, const DatasetCatalog& datasets,
                       const NodeTask& task);

// Per-row outputs never leave the node: the tasks below return only figures over all rows
// (and, for an expert_review vote, the indices of rows flagged for review).

// Memory is bounded by batch_rows, whatever the dataset's length. Checks `cancel` between
// batches (CANCELLED). With task.differential_privacy, each batch's outputs are clipped
// (ClipOutputs) before they are summarised and the summary returned has Laplace noise added
// (AddLaplaceNoise, seeded from std::random_device). Errors: NOT_FOUND (model, dataset),
// INVALID_ARGUMENT (bad rows, column count that does not match the model's input width,
// unknown column, invalid differential privacy settings).
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

// A pipeline step (NodeTaskKind::kStep). Over the dataset: each batch goes through
// task.through's models and then task.model_id, so memory is bounded by batch_rows and the
// result has only the outputs' summary and width. Over task.input_rows (rows the client
// sent, possibly through earlier steps): the model runs on them and the result holds the
// output rows too. Checks `cancel` between batches
// (CANCELLED). Errors: NOT_FOUND (a model, the dataset), INVALID_ARGUMENT (bad rows, a width
// that does not match the next model's input, naming it), RESOURCE_EXHAUSTED when output
// rows to return would hold more than kMaxClientValues numbers.
Result<StepOutput> RunStepTask(ModelRepository& models, const DatasetCatalog& datasets,
                               const NodeTask& task, const CancelToken& cancel,
                               int64_t batch_rows = 4096);

// Runs a task of any kind under the node's policy and returns what leaves the node: a
// Summary, a ConsensusResult or a StepOutput. Errors as above, and FAILED_PRECONDITION from
// CheckNodePolicy, also when the file turns out to have fewer rows than policy.min_samples
// when it is read.
Result<TaskResult> RunNodeTask(ModelRepository& models, const DatasetCatalog& datasets,
                               const NodeTask& task, const CancelToken& cancel,
                               const NodePolicy& policy = NodePolicy{}, int64_t batch_rows = 4096);

}  // namespace dim::core
