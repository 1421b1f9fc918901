#include "core/job_types.h"

#include <gtest/gtest.h>

#include "core/status.h"

namespace dim::core {
namespace {

TEST(TaskState, NamesReadBackAndUnknownWordsAreRefused) {
  for (int k = 0; k <= static_cast<int>(TaskState::kSkipped); ++k) {
    const auto state = static_cast<TaskState>(k);
    EXPECT_EQ(ParseTaskState(TaskStateName(state)), state) << TaskStateName(state);
  }
  EXPECT_EQ(TaskStateName(TaskState::kCompleted), "completed");
  EXPECT_EQ(ParseTaskState("COMPLETED"), std::nullopt);  // the daemon protocol's words only
  EXPECT_EQ(ParseTaskState(""), std::nullopt);
  EXPECT_EQ(ParseTaskState("rejected"), std::nullopt);
}

TEST(TaskState, EndedStatesAndTheStateAStatusEndsIn) {
  EXPECT_FALSE(IsEnded(TaskState::kPending));
  EXPECT_FALSE(IsEnded(TaskState::kQueued));
  EXPECT_FALSE(IsEnded(TaskState::kRunning));
  EXPECT_TRUE(IsEnded(TaskState::kCompleted));
  EXPECT_TRUE(IsEnded(TaskState::kFailed));
  EXPECT_TRUE(IsEnded(TaskState::kCancelled));
  EXPECT_TRUE(IsEnded(TaskState::kSkipped));
  EXPECT_EQ(EndedState(Status::Ok()), TaskState::kCompleted);
  EXPECT_EQ(EndedState(Status::Cancelled("stop")), TaskState::kCancelled);
  EXPECT_EQ(EndedState(Status::DeadlineExceeded("late")), TaskState::kFailed);
}

TEST(StatusText, ReadsBackWhatToStringWrites) {
  for (const Status& s :
       {Status::Ok(), Status::Unavailable("node 'a' is unreachable"),
        Status::DeadlineExceeded("ran past 2s: a: b"), Status(StatusCode::kUnknown, "odd")}) {
    EXPECT_EQ(ParseStatusText(s.ToString()), s) << s;
  }
  EXPECT_TRUE(ParseStatusText("").ok());
  EXPECT_EQ(ErrorText(Status::Ok()), "");
  EXPECT_EQ(ErrorText(Status::NotFound("x")), "NOT_FOUND: x");
  // Text written before errors had codes is kept whole.
  EXPECT_EQ(ParseStatusText("the node went away"),
            Status(StatusCode::kUnknown, "the node went away"));
  EXPECT_EQ(ParseStatusText("Model: crashed"), Status(StatusCode::kUnknown, "Model: crashed"));
}

}  // namespace
}  // namespace dim::core
