// Starts a gRPC server with the standard health service and server reflection.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace dim::net {

struct RunningServer {
  std::unique_ptr<grpc::Server> server;
  // The address actually bound (port 0 replaced by the chosen port).
  std::string address;
};

// Binds `listen` (host:port; port 0 picks a free one) and serves `services`, plus
// grpc.health.v1.Health (SERVING) and reflection. UNAVAILABLE when the address cannot be
// bound; INVALID_ARGUMENT when it is not host:port. `credentials`: TLS or not (null:
// plaintext).
// `interceptors`: run on every call (metrics).
core::Result<RunningServer> StartServer(
    const std::string& listen, const std::vector<grpc::Service*>& services,
    std::shared_ptr<grpc::ServerCredentials> credentials = nullptr,
    int64_t max_receive_bytes = 16 << 20,
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors = {});

// Process-wide settings for gRPC: once, at the top of main, before any channel or server.
// Turns off Abseil's lock-order (deadlock) tracking, which Debian's Abseil leaves on and
// which makes each of gRPC's mutex locks update a process-wide graph.
void ConfigureGrpcRuntime();

// Blocks until SIGINT or SIGTERM arrives (the signals, and SIGHUP, are blocked in every
// thread first; call BlockStopSignals() at the top of main before any thread starts),
// calling `on_hangup` (if set) for each SIGHUP meanwhile.
void BlockStopSignals();
int WaitForStopSignal(const std::function<void()>& on_hangup = {});

// Once a stop signal came: should stopping (in-flight calls, tasks reaching their next
// batch, joins) take longer than `limit`, logs why and ends the process at once with exit
// status 1, so that SIGTERM always ends a service within a few seconds, whatever a task
// is blocked on.
void EndProcessIfStoppingTakesLongerThan(std::chrono::seconds limit);

}  // namespace dim::net
