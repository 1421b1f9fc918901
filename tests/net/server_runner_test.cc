#include "net/server_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace dim::net {
namespace {

TEST(StartServer, APortInUseIsRefusedNotShared) {
  auto first = StartServer("127.0.0.1:0", {});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = StartServer(first->address, {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(second.status().message(),
            "cannot listen on " + first->address + ": address already in use");
  first->server->Shutdown(std::chrono::system_clock::now());
}

TEST(EndProcessIfStoppingTakesLongerThan, EndsAStuckStopWithExitStatus1) {
  // gRPC's threads run in this process: the child re-executes the test binary.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        EndProcessIfStoppingTakesLongerThan(std::chrono::seconds(1));
        std::this_thread::sleep_for(std::chrono::seconds(30));  // a stop that never ends
        std::exit(0);
      },
      ::testing::ExitedWithCode(1), "");
}

}  // namespace
}  // namespace dim::net
