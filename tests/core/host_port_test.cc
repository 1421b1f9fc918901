#include "core/host_port.h"

#include <gtest/gtest.h>

namespace dim::core {
namespace {

TEST(ParseHostPort, SplitsAtTheLastColon) {
  auto v4 = ParseHostPort("127.0.0.1:50051", 1);
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 50051u);
  auto v6 = ParseHostPort("[::1]:0", 0);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->port, 0u);
}

TEST(ParseHostPort, NamesWhatIsWrong) {
  EXPECT_EQ(ParseHostPort("nonsense", 1).status().message(), "expected HOST:PORT, got 'nonsense'");
  EXPECT_EQ(ParseHostPort(":80", 1).status().message(), "expected HOST:PORT, got ':80'");
  EXPECT_EQ(ParseHostPort("h:", 1).status().message(), "expected HOST:PORT, got 'h:'");
  EXPECT_EQ(ParseHostPort("h:99999", 1).status().message(),
            "the port must be a number from 1 to 65535, got '99999'");
  EXPECT_EQ(ParseHostPort("h:0", 1).status().message(),
            "the port must be a number from 1 to 65535, got '0'");
  EXPECT_EQ(ParseHostPort("h:8x", 0).status().message(),
            "the port must be a number from 0 to 65535, got '8x'");
}

}  // namespace
}  // namespace dim::core
