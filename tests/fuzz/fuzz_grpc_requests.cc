// libFuzzer target for the services' request messages, over real gRPC: an orchestrator
// (job service, node registry, model store) and a daemon (task queue over a small dataset)
// listen on loopback in this process. Each input is one unary call: its first byte picks
// the method, the rest are the request's bytes, sent as they are (so a message that does
// not parse, or holds bytes that are not UTF-8 in a string field, reaches the server too).
// Every call must be answered before its deadline, and both servers must keep answering:
// a crash, a hang or a server gone aborts.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/engine/job_service.h"
#include "core/models/model_store.h"
#include "core/node/dataset_catalog.h"
#include "core/node/model_repository.h"
#include "core/node/task_queue.h"
#include "core/store/job_store.h"
#include "net/daemon_service.h"
#include "net/node_registry.h"
#include "net/orchestrator_service.h"
#include "net/server_runner.h"

namespace {

namespace core = dim::core;
namespace fs = std::filesystem;
namespace net = dim::net;

// The unary methods a peer may call, by the first byte of an input (modulo their number).
const char* const kMethods[] = {
    "/dim.orchestrator.Orchestrator/SubmitJob",
    "/dim.orchestrator.Orchestrator/GetJobStatus",
    "/dim.orchestrator.Orchestrator/CancelJob",
    "/dim.orchestrator.Orchestrator/GetJobResult",
    "/dim.orchestrator.Orchestrator/ListJobs",
    "/dim.orchestrator.Orchestrator/RegisterNode",
    "/dim.orchestrator.Orchestrator/Heartbeat",
    "/dim.orchestrator.Orchestrator/ListNodes",
    "/dim.orchestrator.Orchestrator/ListModels",
    "/dim.daemon.Daemon/SubmitJob",
    "/dim.daemon.Daemon/GetJobStatus",
    "/dim.daemon.Daemon/CancelJob",
    "/dim.daemon.Daemon/GetHealth",
    "/dim.daemon.Daemon/GetStats",
    "/dim.daemon.Daemon/DescribeNode",
};
constexpr size_t kOrchestratorMethods = 9;
constexpr auto kDeadline = std::chrono::seconds(10);

// Both services, started once per process, in a scratch folder removed at exit.
class Services final {
 public:
  Services()
      : dir_(fs::temp_directory_path() / ("dim_fuzz_grpc_" + std::to_string(::getpid()))),
        store_(Open()),
        model_store_(OpenModelStore()),
        registry_(clock_, net::NodeRegistryOptions{}),
        jobs_(*store_, registry_, clock_, core::JobServiceOptions{.workers = 2}),
        orchestrator_(jobs_, registry_, model_store_.get()),
        models_(dir_ / "models"),
        tasks_(models_, datasets_, clock_, Options()),
        daemon_("fuzz-node", models_, datasets_, tasks_, 2) {
    if (!jobs_.Start().ok()) std::abort();
    auto orchestrator = net::StartServer("127.0.0.1:0", {&orchestrator_});
    auto daemon = net::StartServer("127.0.0.1:0", {&daemon_});
    if (!orchestrator.ok() || !daemon.ok()) std::abort();
    orchestrator_server_ = std::move(*orchestrator);
    daemon_server_ = std::move(*daemon);
    orchestrator_stub_ = Stub(orchestrator_server_.address);
    daemon_stub_ = Stub(daemon_server_.address);
  }
  const fs::path& dir() const { return dir_; }

  // The call's status; aborts when it is not answered in time.
  grpc::Status Call(size_t method, const std::string& bytes) {
    grpc::GenericStub& stub = method < kOrchestratorMethods ? *orchestrator_stub_ : *daemon_stub_;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kDeadline);
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    stub.UnaryCall(&ctx, kMethods[method], grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                     std::lock_guard lock(mu);
                     status = std::move(s);
                     done = true;
                     cv.notify_one();
                   });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
    return status;
  }

 private:
  static core::TaskQueueOptions Options() {
    core::TaskQueueOptions options;
    options.policy.min_samples = 0;
    return options;
  }
  std::unique_ptr<core::JobStore> Open() {
    fs::create_directories(dir_ / "models");
    std::ofstream(dir_ / "data.csv") << "a,b\n1,2\n3,4\n";
    if (!datasets_.Add("default", dir_ / "data.csv").ok()) std::abort();
    auto store = core::JobStore::Open(":memory:");
    if (!store.ok()) std::abort();
    return std::move(*store);
  }
  std::unique_ptr<core::ModelStore> OpenModelStore() {
    auto store = core::ModelStore::Open(dir_ / "store", clock_, {});
    if (!store.ok()) std::abort();
    return std::move(*store);
  }
  static std::unique_ptr<grpc::GenericStub> Stub(const std::string& address) {
    return std::make_unique<grpc::GenericStub>(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  }

  fs::path dir_;
  core::SystemClock clock_;
  core::DatasetCatalog datasets_;
  std::unique_ptr<core::JobStore> store_;
  std::unique_ptr<core::ModelStore> model_store_;
  net::NodeRegistry registry_;
  core::JobService jobs_;
  net::OrchestratorService orchestrator_;
  core::ModelRepository models_;
  core::TaskQueue tasks_;
  net::DaemonService daemon_;
  net::RunningServer orchestrator_server_;
  net::RunningServer daemon_server_;
  std::unique_ptr<grpc::GenericStub> orchestrator_stub_;
  std::unique_ptr<grpc::GenericStub> daemon_stub_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Lives until the process ends (its servers serve every input); its folder goes at exit.
  static Services* services = [] {
    net::ConfigureGrpcRuntime();
    auto* started = new Services();
    static const fs::path dir = started->dir();
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(dir, ec);
    });
    return started;
  }();
  if (size == 0) return 0;
  const size_t method = data[0] % std::size(kMethods);
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const grpc::Status status = services->Call(method, bytes);
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) std::abort();  // a hang
  // Both servers still answer.
  for (size_t probe : {size_t{7}, size_t{12}}) {
    if (!services->Call(probe, "").ok()) std::abort();
  }
  return 0;
}
