// The chained pattern: a pipeline of models, each step on its own node. A step's output
// flows to the steps that read it. Rows that came from the client travel between nodes;
// rows read from a dataset never leave their node: a later step on that node derives them
// again from the dataset, streamed through the earlier steps' models.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/job/chained_config.h"
#include "core/node/node_client.h"
#include "core/patterns/node_runs.h"

namespace dim::core {

// Checks the pipeline against the known nodes before the job is stored: every step's
// node_id and fallback node exists (NOT_FOUND "$.pipeline[1].node_id: node 'x' not found
// (known nodes: ...)", "$.error_handling.fallback_nodes.2[0]: ..."); a node that has
// described itself holds the step's dataset ("$.pipeline[0].input_source: node 'a' has no
// dataset 'd' (it has: ...)") and model ("$.pipeline[0].model_id: model 'm' not found on
// node 'a'").
Status CheckChainedNodes(const ChainedConfig& config, NodeDirectory& directory);

// Runs the steps in order and returns the result document:
//   {"pattern": "chained", "steps": N, "on_failure": "retry",
//    "output": <the last step's summary (SummaryToJson)>, "output_shape": [rows, width],
//    "output_rows": [[...]...]   (only when the last step's rows came from input_data),
//    "pipeline_trace": [{"step", "name", "model_id", "node_id", "input_source", "status",
//                        "attempts", "duration", "output_shape", "error",
//                        "attempt_errors": [...]}...]}
// A step's attempts follow config.error_handling: fail_fast gives one; retry gives up to
// 1 + max_retries, the i-th on the i-th node of [node_id, fallbacks...] (cycling);
// rollback_and_retry re-runs the step it reads (once, on that step's node) before each
// retry. Retry n waits 100 ms << (n-1), at most 2 s, first. A trace entry's status is completed,
// failed, cancelled or skipped (never run because an earlier step failed). When a step runs out of
// attempts the job fails: FAILED_PRECONDITION "step 2 'score' failed on node 'b' after 3 attempts:
// <last error>", and *failed_trace (when given) gets the document above without the output keys.
// DEADLINE_EXCEEDED when the job's timeout passes; CANCELLED when `cancel` is raised. For a dry
// run: each step's node and the task it would get there (a step over earlier steps' output gets the
// client's rows, or the dataset steps' lineage, as in a real run, so that the node checks the rows,
// models and dataset it would see).
Result<std::vector<std::pair<std::string, NodeTask>>> ChainedDryRunTasks(
    const std::string& job_id, const ChainedConfig& config);

// With `output_rows` given, the output rows go there (as they are) instead of into the
// document's "output_rows".
Result<nlohmann::json> RunChained(const std::string& job_id, const ChainedConfig& config,
                                  NodeDirectory& directory, const CancelToken& cancel,
                                  const Clock& clock, const NodeUpdateFn& on_update,
                                  nlohmann::json* failed_trace = nullptr,
                                  std::optional<Matrix>* output_rows = nullptr);

// A pipeline's streamed rows (JobRecord::input_stream), read one chunk at a time, and where
// its output rows go as each chunk's come out.
class ChunkedRows {
 public:
  virtual ~ChunkedRows() = default;
  virtual int64_t input_chunks() const = 0;
  virtual int64_t input_rows() const = 0;
  // Chunk `seq` (0-based) of the client's rows.
  virtual Result<ClientData> ReadInput(int64_t seq) = 0;
  // The next of the pipeline's output rows, in order.
  virtual Status AppendOutput(const Matrix& rows) = 0;
};

// Whether the pipeline can run over streamed rows, chunk by chunk: every step must read the
// client's rows (directly or through earlier steps). INVALID_ARGUMENT naming the first step
// whose input is a node's dataset, which it would read again for each chunk.
Status CheckChunkedPipeline(const ChainedConfig& config);

// RunChained over rows kept in chunks: the whole pipeline runs on the first chunk, its
// output rows go to rows.AppendOutput, then on the next chunk, and so on, so that one chunk
// at a time is in memory. Error handling applies to each chunk's tasks; the job's timeout
// covers all chunks. The document is RunChained's with "chunks": N, each step's figures over
// all chunks (attempts and durations summed, output_shape and summary of all its rows), and
// no "output_rows". While chunks remain, on_update shows each step running, with rows_done
// and rows_total over all the input rows. An error names the chunk ("chunk 3 of 160: ...").
Result<nlohmann::json> RunChainedOverChunks(const std::string& job_id, const ChainedConfig& config,
                                            ChunkedRows& rows, NodeDirectory& directory,
                                            const CancelToken& cancel, const Clock& clock,
                                            const NodeUpdateFn& on_update,
                                            nlohmann::json* failed_trace = nullptr);

}  // namespace dim::core
