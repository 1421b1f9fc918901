// Typed node task results: the rows they cover, the document that leaves the node, and the
// bytes its ledger hashes.
#include "core/node/task_result.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/text.h"

namespace dim::core {
namespace {

StepOutput Step(bool with_rows) {
  StepOutput out;
  out.summary.rows = 2;
  out.width = 1;
  if (with_rows) {
    Matrix rows(2, 1);
    rows << 1.5f, -2;
    out.rows = rows;
  }
  return out;
}

TEST(TaskResult, RowsAreThoseOfItsSummaryOrVote) {
  Summary summary;
  summary.rows = 7;
  ConsensusResult vote;
  vote.rows = 9;
  EXPECT_EQ(ResultRows(summary), 7);
  EXPECT_EQ(ResultRows(vote), 9);
  EXPECT_EQ(ResultRows(Step(true)), 2);
}

TEST(TaskResult, AStepsDocumentHoldsItsRowsOnlyWhenAsked) {
  NodeTask task;
  task.kind = NodeTaskKind::kStep;
  const nlohmann::json with = TaskDocument(task, Step(true), true);
  EXPECT_EQ(with["output_shape"], nlohmann::json({2, 1}));
  EXPECT_EQ(with["output_rows"], nlohmann::json({{1.5}, {-2.0}}));
  EXPECT_EQ(with["summary"]["rows"], 2);
  EXPECT_FALSE(TaskDocument(task, Step(true), false).contains("output_rows"));
  // Rows read from a dataset never leave the node, whatever is asked.
  EXPECT_FALSE(TaskDocument(task, Step(false), true).contains("output_rows"));
}

// The ledger hashes what leaves: the text, then the binary rows when they travel beside it.
TEST(TaskResult, ReleasedBytesAreTheDocumentThenTheBinaryRows) {
  NodeTask task;
  task.kind = NodeTaskKind::kStep;
  task.input_rows = Matrix::Ones(2, 3);
  const std::string text = DumpJson(TaskDocument(task, Step(true), false));
  const std::string bytes = ReleasedBytes(task, Step(true), text);
  ASSERT_EQ(bytes.size(), text.size() + 8);
  EXPECT_EQ(bytes.substr(0, text.size()), text);
  // 1.5f = 0x3fc00000, -2.0f = 0xc0000000, little-endian.
  EXPECT_EQ(bytes.substr(text.size()), std::string("\x00\x00\xc0\x3f\x00\x00\x00\xc0", 8));
  task.rows_as_json = true;
  const std::string with_rows = DumpJson(TaskDocument(task, Step(true), true));
  EXPECT_EQ(ReleasedBytes(task, Step(true), with_rows), with_rows);
  Summary summary;
  summary.rows = 3;
  const std::string text_only = DumpJson(SummaryToJson(summary));
  EXPECT_EQ(ReleasedBytes(NodeTask{}, summary, text_only), text_only);
}

}  // namespace
}  // namespace dim::core
