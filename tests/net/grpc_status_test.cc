// How a call to the orchestrator that failed is said (src/net/grpc_status.h): once, in words.
#include "net/grpc_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dim::net {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(UnreachableReason, SaysWhyInAFewWords) {
  EXPECT_EQ(UnreachableReason("failed to connect to all addresses; last error: UNKNOWN: "
                              "ipv4:127.0.0.1:1: Failed to connect to remote host: Connection "
                              "refused"),
            "connection refused");
  EXPECT_EQ(UnreachableReason("DNS resolution failed for nosuch.invalid:50051: C-ares status is "
                              "not ARES_SUCCESS qtype=AAAA name=nosuch.invalid is_balancer=0: "
                              "Domain name not found"),
            "the host name does not resolve");
  EXPECT_EQ(UnreachableReason("Deadline Exceeded"), "no answer before the deadline");
  EXPECT_EQ(UnreachableReason("failed to connect to all addresses; last error: UNAVAILABLE: "
                              "ipv4:127.0.0.1:5: Socket closed"),
            "the server closed the connection");
  EXPECT_EQ(UnreachableReason("failed to connect to all addresses; last error: UNKNOWN: "
                              "ipv4:127.0.0.1:5: Ssl handshake failed: SSL_ERROR_SSL: "
                              "error:0A000086:SSL routines::certificate verify failed"),
            "TLS handshake failed: certificate verify failed: the server's certificate is not "
            "from --tls-ca, or does not name the address dialled");
  EXPECT_EQ(UnreachableReason("failed to connect to all addresses; last error: OK"),
            "it does not answer as a gRPC server");
  EXPECT_EQ(UnreachableReason("failed to connect to all addresses; last error: UNKNOWN: "
                              "ipv6:[::1]:5: Something new"),
            "Something new");
}

TEST(FromOrchestrator, UnreachableIsOneSentence) {
  const core::Status refused = FromOrchestrator(
      grpc::Status(grpc::StatusCode::UNAVAILABLE,
                   "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: "
                   "Failed to connect to remote host: Connection refused"),
      "127.0.0.1:1");
  EXPECT_EQ(refused.code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(refused.message(),
            "cannot reach the orchestrator at 127.0.0.1:1 (connection refused); is it running?");
  const core::Status hinted =
      FromOrchestrator(grpc::Status(grpc::StatusCode::UNAVAILABLE, "... Socket closed"), "h:1",
                       "the server closed the connection: if it serves TLS, give --tls-ca");
  EXPECT_EQ(hinted.message(),
            "cannot reach the orchestrator at h:1 (the server closed the connection: if it "
            "serves TLS, give --tls-ca)");
  EXPECT_THAT(hinted.message(), Not(HasSubstr("Socket closed")));
}

TEST(FromOrchestrator, ADaemonsAddressIsNamedAsNotAnOrchestrator) {
  const core::Status s =
      FromOrchestrator(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, ""), "127.0.0.1:50061");
  EXPECT_EQ(s.code(), core::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("127.0.0.1:50061 answers, but is not a dim orchestrator"));
  // An orchestrator that says what it lacks keeps its words.
  const core::Status said = FromOrchestrator(
      grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "dry runs are not supported"), "h:1");
  EXPECT_EQ(said.code(), core::StatusCode::kUnimplemented);
  EXPECT_EQ(said.message(), "dry runs are not supported");
}

}  // namespace
}  // namespace dim::net
