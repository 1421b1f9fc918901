#include "net/server_runner.h"

#include <absl/synchronization/mutex.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

namespace dim::net {

void ConfigureGrpcRuntime() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

core::Result<RunningServer> StartServer(const std::string& listen,
                                        const std::vector<grpc::Service*>& services) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return core::Status::InvalidArgument("listen address '" + listen +
                                         "' is not HOST:PORT (e.g. 127.0.0.1:0)");
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  for (auto* s : services) builder.RegisterService(s);
  RunningServer running;
  running.server = builder.BuildAndStart();
  if (!running.server || port == 0) {
    return core::Status::Unavailable("cannot listen on " + listen +
                                     " (address in use or not valid for this machine)");
  }
  running.server->GetHealthCheckService()->SetServingStatus(true);
  running.address = listen.substr(0, colon) + ":" + std::to_string(port);
  return running;
}

void BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForStopSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace dim::net
