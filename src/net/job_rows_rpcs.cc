#include "net/job_rows_rpcs.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <optional>

#include "net/grpc_status.h"
#include "net/tensor_codec.h"

namespace dim::net {
namespace {

namespace pb = dim::orchestrator;

class SubmitStream final : public grpc::ServerReadReactor<pb::SubmitJobChunk> {
 public:
  SubmitStream(core::JobService& jobs, core::ThreadPool& pool, grpc::CallbackServerContext* ctx,
               pb::SubmitJobResponse* resp, SubmitCheck check, SubmitEnded on_end)
      : jobs_(jobs),
        pool_(pool),
        ctx_(ctx),
        resp_(resp),
        check_(std::move(check)),
        on_end_(std::move(on_end)) {
    StartRead(&chunk_);
  }

  void OnReadDone(bool ok) override {
    // !ok: the client has sent everything (or is gone, see cancelled_).
    pool_.Run([this, ok] { ok ? Take() : Commit(); });
  }
  void OnCancel() override { cancelled_ = true; }
  void OnDone() override { delete this; }

 private:
  void Take() {
    if (chunk_.has_job()) {
      if (upload_) return Fail(core::Status::InvalidArgument("job: sent twice in one stream"));
      if (chunk_.job().has_input_rows()) {
        return Fail(core::Status::InvalidArgument(
            "job.input_rows: a streamed submit sends its rows in the messages after the job"));
      }
      auto request = check_(chunk_.job());
      if (!request.ok()) return Fail(request.status());
      auto upload = jobs_.BeginUpload(*std::move(request));
      if (!upload.ok()) return Fail(upload.status());
      upload_ = std::move(*upload);
    } else if (ended_) {
      return Fail(core::Status::InvalidArgument("a message after the stream's end"));
    } else if (chunk_.part_case() == pb::SubmitJobChunk::kEnd) {
      if (!upload_) {
        return Fail(core::Status::InvalidArgument(
            "the first message of SubmitJobStream must be the job, not its end"));
      }
      if (chunk_.end() != upload_->rows()) {
        return Fail(core::Status::InvalidArgument("end: the stream says it carried " +
                                                  std::to_string(chunk_.end()) + " rows; " +
                                                  std::to_string(upload_->rows()) + " came"));
      }
      ended_ = true;
    } else if (chunk_.has_rows()) {
      if (!upload_) {
        return Fail(core::Status::InvalidArgument(
            "the first message of SubmitJobStream must be the job, not rows"));
      }
      const std::string field = "rows[" + std::to_string(messages_) + "]";
      auto rows = ClientDataFromTensor(chunk_.rows(), field, core::kMaxClientValues);
      if (!rows.ok()) return Fail(rows.status());
      if (core::Status s = upload_->Add(*rows); !s.ok()) return Fail(s.WithPrefix(field));
      ++messages_;
    } else {
      return Fail(core::Status::InvalidArgument("a message with neither the job nor rows"));
    }
    StartRead(&chunk_);
  }

  void Commit() {
    // A client that went away mid-stream must not leave a job with part of its rows.
    if (cancelled_ || ctx_->IsCancelled()) {
      upload_.reset();  // removes the rows stored
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the submit was cancelled"));
      return;
    }
    if (!upload_)
      return Fail(core::Status::InvalidArgument("SubmitJobStream: no message was sent"));
    // Only the client's `end` tells a stream that finished from one that broke off.
    if (!ended_) {
      return Fail(core::Status::InvalidArgument(
          "SubmitJobStream: the stream ended without its end message; nothing was stored"));
    }
    auto job = upload_->Finish();
    upload_.reset();
    if (!job.ok()) return Fail(job.status());
    resp_->set_job_id(job->id);
    resp_->set_status(std::string(core::JobStateName(job->state)));
    spdlog::info("job {} submitted by '{}' (chained, {} nodes, {} rows streamed in {} chunks)",
                 job->id, job->user_id, job->total_steps, job->input_stream->rows,
                 job->input_stream->chunks);
    if (on_end_) on_end_(*job);
    Finish(grpc::Status::OK);
  }

  void Fail(const core::Status& status) {
    upload_.reset();
    spdlog::info("job rejected: {}", status.ToString());
    FillError(status, resp_->mutable_error());
    if (on_end_) on_end_(status);
    Finish(ToGrpc(status));
  }

  core::JobService& jobs_;
  core::ThreadPool& pool_;
  grpc::CallbackServerContext* ctx_;
  pb::SubmitJobResponse* resp_;
  SubmitCheck check_;
  SubmitEnded on_end_;
  pb::SubmitJobChunk chunk_;
  std::unique_ptr<core::RowUpload> upload_;
  int64_t messages_ = 0;
  bool ended_ = false;  // the client's end message came
  std::atomic<bool> cancelled_{false};
};

class RowsWriter final : public grpc::ServerWriteReactor<dim::common::Tensor> {
 public:
  RowsWriter(core::JobService& jobs, core::ThreadPool& pool, core::JobRecord job)
      : jobs_(jobs), pool_(pool), job_(std::move(job)) {
    pool_.Run([this] { WriteNext(); });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {  // the client is gone
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    pool_.Run([this] { WriteNext(); });
  }
  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    tensor_.Clear();
    if (job_.output_stream) {
      if (next_ >= job_.output_stream->chunks) return Finish(grpc::Status::OK);
      auto chunk = jobs_.OutputChunk(job_.id, next_);
      if (!chunk.ok()) {
        return Finish(ToGrpc(chunk.status().WithPrefix("job '" + job_.id + "' output rows")));
      }
      ToTensor(*chunk, &tensor_);
    } else {
      if (next_ > 0) return Finish(grpc::Status::OK);
      ToTensor(*job_.output_rows, &tensor_);
    }
    ++next_;
    StartWrite(&tensor_);
  }

  core::JobService& jobs_;
  core::ThreadPool& pool_;
  core::JobRecord job_;
  dim::common::Tensor tensor_;
  int64_t next_ = 0;
};

}  // namespace

grpc::ServerReadReactor<pb::SubmitJobChunk>* SubmitJobStreamReactor(
    core::JobService& jobs, core::ThreadPool& pool, grpc::CallbackServerContext* ctx,
    pb::SubmitJobResponse* resp, SubmitCheck check, SubmitEnded on_end) {
  return new SubmitStream(jobs, pool, ctx, resp, std::move(check), std::move(on_end));
}

grpc::ServerWriteReactor<dim::common::Tensor>* JobRowsReactor(core::JobService& jobs,
                                                              core::ThreadPool& pool,
                                                              core::JobRecord job) {
  if (job.state != core::JobState::kCompleted) {
    return RefuseWrite<dim::common::Tensor>(core::Status::FailedPrecondition(
        "job '" + job.id + "' is " + std::string(core::JobStateName(job.state)) +
        "; it has no output rows" + (core::IsTerminal(job.state) ? "" : " yet")));
  }
  if (!job.output_stream && !job.output_rows) {
    return RefuseWrite<dim::common::Tensor>(core::Status::FailedPrecondition(
        "job '" + job.id + "' has no output rows (only a pipeline over client rows returns them)"));
  }
  return new RowsWriter(jobs, pool, std::move(job));
}

}  // namespace dim::net
