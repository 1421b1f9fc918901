// WatchJob over a real gRPC connection, against a job service whose nodes end their tasks when
// the test says: progress goes out at most every 100 ms (folded, never lost), the job's end
// at once.
#include "net/job_watch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/server_runner.h"
#include "orchestrator.grpc.pb.h"
#include "tests/core/node/summary_node.h"

namespace dim::net {
namespace {

namespace pb = dim::orchestrator;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A node whose task ends (with a small summary) once the test releases it.
class GatedNode final : public dim::testing::SummaryNode {
 public:
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 protected:
  core::Result<core::Summary> Answer(const core::NodeTask&, const core::CancelToken& cancel,
                                     std::chrono::milliseconds) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 10s, [&] { return released_ || cancel.cancelled(); });
    core::Summary s;
    s.rows = 10;
    s.columns = {core::ColumnSummary{0.5, 0.01, 0.4, 0.6}};
    return s;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

// Nodes "a", "b", "c", each holding dataset "default" and model "m".
class GatedDirectory final : public core::NodeDirectory {
 public:
  std::map<std::string, std::shared_ptr<GatedNode>> nodes{{"a", std::make_shared<GatedNode>()},
                                                          {"b", std::make_shared<GatedNode>()},
                                                          {"c", std::make_shared<GatedNode>()}};

  core::Result<std::shared_ptr<core::NodeClient>> Client(const std::string& id) override {
    auto it = nodes.find(id);
    if (it == nodes.end()) return core::Status::NotFound("node '" + id + "' not found");
    return std::shared_ptr<core::NodeClient>(it->second);
  }
  std::vector<core::NodeDescription> Describe() override {
    std::vector<core::NodeDescription> out;
    for (const auto& [id, node] : nodes) {
      core::NodeDescription d;
      d.id = id;
      d.described = true;
      d.datasets.emplace_back().name = "default";
      d.models = {"m"};
      out.push_back(d);
    }
    return out;
  }
};

// The Orchestrator service's WatchJob alone.
class WatchOnly final : public pb::Orchestrator::CallbackService {
 public:
  explicit WatchOnly(core::JobService& jobs) : jobs_(jobs) {}
  grpc::ServerWriteReactor<pb::JobStatusResponse>* WatchJob(
      grpc::CallbackServerContext*, const pb::WatchJobRequest* req) override {
    return WatchJobReactor(jobs_, *req);
  }

 private:
  core::JobService& jobs_;
};

struct Message {
  Clock::time_point at;
  dim::common::JobState state;
  int completed_steps;
};

TEST(WatchJob, ProgressIsPacedAndTheEndGoesOutAtOnce) {
  auto store = core::JobStore::Open(":memory:");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  GatedDirectory directory;
  core::SystemClock clock;
  core::JobService jobs(**store, directory, clock);
  ASSERT_TRUE(jobs.Start().ok());
  WatchOnly service(jobs);
  auto server = StartServer("127.0.0.1:0", {&service});
  ASSERT_TRUE(server.ok()) << server.status().ToString();

  core::SubmitRequest request;
  request.user_id = "u";
  request.pattern = core::Pattern::kCollaborative;
  request.config_json = R"({"model_id":"m","nodes":["a","b","c"]})";
  auto job = jobs.Submit(request);
  ASSERT_TRUE(job.ok()) << job.status().ToString();

  std::mutex mu;
  std::condition_variable cv;
  std::vector<Message> messages;
  std::thread reader([&] {
    auto stub = pb::Orchestrator::NewStub(
        grpc::CreateChannel(server->address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 30s);
    pb::WatchJobRequest req;
    req.set_job_id(job->id);
    auto stream = stub->WatchJob(&ctx, req);
    pb::JobStatusResponse st;
    while (stream->Read(&st)) {
      std::lock_guard lock(mu);
      messages.push_back({Clock::now(), st.status(), st.progress().completed_steps()});
      cv.notify_all();
    }
    EXPECT_TRUE(stream->Finish().ok());
  });
  auto wait_for = [&](size_t count) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] { return messages.size() >= count; });
  };

  // The first state goes out at once; two nodes end right after it: that progress comes
  // about 100 ms later, in one message.
  ASSERT_TRUE(wait_for(1));
  directory.nodes["a"]->Release();
  directory.nodes["b"]->Release();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(
        lock, 10s, [&] { return !messages.empty() && messages.back().completed_steps == 2; }));
  }
  // Quiet for a while, then the end: it goes out at once.
  std::this_thread::sleep_for(300ms);
  const size_t before_end = messages.size();
  const auto released = Clock::now();
  directory.nodes["c"]->Release();
  ASSERT_TRUE(wait_for(before_end + 1));
  reader.join();

  ASSERT_GE(messages.size(), 2u);
  EXPECT_EQ(messages.back().state, dim::common::JOB_STATE_COMPLETED);
  EXPECT_EQ(messages.back().completed_steps, 3);
  EXPECT_LT(messages.back().at - released, 80ms);
  EXPECT_LE(messages.size(), 4u);  // first state, folded progress, (RUNNING,) end
  for (size_t i = 1; i + 1 < messages.size(); ++i) {
    EXPECT_GE(messages[i].at - messages[i - 1].at, 80ms) << "progress message " << i;
  }
  server->server->Shutdown(std::chrono::system_clock::now() + 1s);
  jobs.Stop();
}

}  // namespace
}  // namespace dim::net
