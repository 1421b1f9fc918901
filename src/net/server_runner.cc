#include "net/server_runner.h"

#include <absl/synchronization/mutex.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <netdb.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>

#include "core/host_port.h"

namespace dim::net {

namespace {

// Why gRPC could not listen on host:port, found by binding a socket there ourselves: gRPC
// only says that it failed.
std::string BindFailure(const std::string& host, const std::string& port) {
  std::string bare = host;
  if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(bare.empty() ? nullptr : bare.c_str(), port.c_str(), &hints, &found) != 0) {
    return "not an address of this machine";
  }
  std::string why = "not valid for this machine";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const bool bound = ::bind(fd, a->ai_addr, a->ai_addrlen) == 0;
    const int err = errno;
    ::close(fd);
    if (!bound) {
      why = err == EADDRINUSE ? "address already in use" : std::strerror(err);
      break;
    }
  }
  freeaddrinfo(found);
  return why;
}

}  // namespace

void ConfigureGrpcRuntime() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

core::Result<RunningServer> StartServer(
    const std::string& listen, const std::vector<grpc::Service*>& services,
    std::shared_ptr<grpc::ServerCredentials> credentials, int64_t max_receive_bytes,
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors) {
  auto parsed = core::ParseHostPort(listen, 0);
  if (!parsed.ok()) {
    return core::Status::InvalidArgument("listen address '" + listen +
                                         "' is not HOST:PORT (e.g. 127.0.0.1:0)");
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, credentials ? credentials : grpc::InsecureServerCredentials(),
                           &port);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<int64_t>(max_receive_bytes, std::numeric_limits<int>::max())));
  // gRPC sets SO_REUSEPORT by default: a second server on a port in use would then start,
  // and calls would land on either process at random.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (auto* s : services) builder.RegisterService(s);
  if (!interceptors.empty()) builder.experimental().SetInterceptorCreators(std::move(interceptors));
  RunningServer running;
  running.server = builder.BuildAndStart();
  if (!running.server || port == 0) {
    return core::Status::Unavailable("cannot listen on " + listen + ": " +
                                     BindFailure(parsed->host, std::to_string(parsed->port)));
  }
  running.server->GetHealthCheckService()->SetServingStatus(true);
  running.address = parsed->host + ":" + std::to_string(port);
  return running;
}

void BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void EndProcessIfStoppingTakesLongerThan(std::chrono::seconds limit) {
  std::thread([limit] {
    std::this_thread::sleep_for(limit);
    spdlog::error("still stopping after {}s (a task does not reach its next batch): exiting now",
                  limit.count());
    spdlog::default_logger()->flush();
    std::_Exit(1);
  }).detach();
}

int WaitForStopSignal(const std::function<void()>& on_hangup) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  for (;;) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig != SIGHUP) return sig;
    if (on_hangup) {
      on_hangup();
    } else {
      spdlog::info("SIGHUP received: nothing to reload");
    }
  }
}

}  // namespace dim::net
