// SearchService: what users call (jobs, their progress, fronts,
// candidates and models).
#include <deque>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/rpc/rpc_common.h"
#include "server/spec/job_spec.h"

namespace edgenas {
namespace rpc_internal {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

// Streams progress events of one job until it ends or the client goes away.
class WatchReactor : public grpc::ServerWriteReactor<v1::ProgressEvent> {
 public:
  WatchReactor(ProgressHub* jobs, const std::string& job_id)
      : jobs_(jobs), state_(std::make_shared<State>()) {
    state_->reactor = this;
    std::shared_ptr<State> state = state_;
    // Subscribed before the snapshot is read, so no trial falls between the
    // two; events that arrive meanwhile wait, and those the snapshot already
    // counts are dropped (each trial reaches the watcher once).
    subscription_ =
        jobs_->Subscribe(job_id, [state](const v1::ProgressEvent& e) { state->Push(e); });
    absl::StatusOr<v1::ProgressEvent> first = jobs_->Snapshot(job_id);
    if (!first.ok()) {
      state_->Close(ToGrpc(first.status()));
      return;
    }
    first->set_message("watching");
    state_->Start(*first);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      state_->Close(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
      return;
    }
    state_->WriteDone();
  }
  void OnCancel() override {
    state_->Close(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }
  void OnDone() override {
    jobs_->Unsubscribe(subscription_);
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->reactor = nullptr;
    }
    delete this;
  }

 private:
  struct State {
    std::mutex mu;
    WatchReactor* reactor = nullptr;
    std::deque<v1::ProgressEvent> queue;
    bool writing = false, finished = false;
    bool started = false;                  // the snapshot went first
    int baseline = 0;                      // trials the snapshot counted
    std::vector<v1::ProgressEvent> early;  // arrived before the snapshot
    v1::ProgressEvent current;

    static bool Final(const v1::ProgressEvent& e) {
      return e.state() == v1::JOB_SUCCEEDED || e.state() == v1::JOB_FAILED ||
             e.state() == v1::JOB_CANCELLED;
    }
    void Start(const v1::ProgressEvent& snapshot) {
      std::lock_guard<std::mutex> lock(mu);
      if (finished || reactor == nullptr) return;
      started = true;
      baseline = snapshot.trials_done();
      queue.push_back(snapshot);
      for (v1::ProgressEvent& e : early)
        if (!Counted(e)) queue.push_back(std::move(e));
      early.clear();
      if (!writing) StartNextLocked();
    }
    void Push(const v1::ProgressEvent& e) {
      std::lock_guard<std::mutex> lock(mu);
      if (finished || reactor == nullptr) return;
      if (!started) {
        early.push_back(e);
        return;
      }
      if (Counted(e)) return;
      queue.push_back(e);
      if (!writing) StartNextLocked();
    }
    bool Counted(const v1::ProgressEvent& e) const {
      return e.trial_number() > 0 && e.trial_number() <= baseline;
    }
    void WriteDone() {
      std::lock_guard<std::mutex> lock(mu);
      writing = false;
      if (finished || reactor == nullptr) return;
      if (Final(current)) {
        finished = true;
        reactor->Finish(grpc::Status::OK);
        return;
      }
      StartNextLocked();
    }
    void StartNextLocked() {
      if (queue.empty()) return;
      current = std::move(queue.front());
      queue.pop_front();
      writing = true;
      reactor->StartWrite(&current);
    }
    void Close(const grpc::Status& s) {
      std::lock_guard<std::mutex> lock(mu);
      if (finished || reactor == nullptr) return;
      finished = true;
      reactor->Finish(s);
    }
  };

  ProgressHub* jobs_;
  std::shared_ptr<State> state_;
  int subscription_ = 0;
};

class SearchServiceImpl : public v1::SearchService::CallbackService {
 public:
  explicit SearchServiceImpl(Coordinator* c) : c_(c) {}

  ServerUnaryReactor* SubmitJob(CallbackServerContext* ctx, const v1::SubmitJobRequest* req,
                                v1::SubmitJobResponse* resp) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok()) return Done(ctx, p.status());
    v1::JobSpec spec = WithDefaults(req->spec());
    if (absl::Status s = ValidateJobSpec(spec); !s.ok()) return Done(ctx, s);
    absl::StatusOr<std::string> id = c_->jobs()->Submit(spec);
    if (id.ok()) resp->set_job_id(*id);
    return Done(ctx, id.status());
  }

  ServerUnaryReactor* GetJob(CallbackServerContext* ctx, const v1::GetJobRequest* req,
                             v1::Job* resp) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok()) return Done(ctx, p.status());
    absl::StatusOr<v1::Job> job = c_->jobs()->queries().Get(req->job_id());
    if (job.ok()) *resp = *std::move(job);
    return Done(ctx, job.status());
  }

  ServerUnaryReactor* ListJobs(CallbackServerContext* ctx, const v1::ListJobsRequest* req,
                               v1::ListJobsResponse* resp) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok()) return Done(ctx, p.status());
    if (req->limit() < 0 || req->limit() > 10000)
      return Done(ctx, absl::InvalidArgumentError("limit: must be in [0, 10000]"));
    absl::StatusOr<std::vector<v1::Job>> jobs =
        c_->jobs()->queries().List(req->limit() > 0 ? req->limit() : 100);
    if (jobs.ok())
      for (v1::Job& j : *jobs) *resp->add_jobs() = std::move(j);
    return Done(ctx, jobs.status());
  }

  ServerUnaryReactor* CancelJob(CallbackServerContext* ctx, const v1::CancelJobRequest* req,
                                v1::CancelJobResponse* resp) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok()) return Done(ctx, p.status());
    absl::StatusOr<v1::Job> job = c_->jobs()->Cancel(req->job_id());
    if (job.ok()) *resp->mutable_job() = *std::move(job);
    return Done(ctx, job.status());
  }

  grpc::ServerWriteReactor<v1::ProgressEvent>* WatchJob(CallbackServerContext* ctx,
                                                        const v1::WatchJobRequest* req) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok())
      return new FailedWriter<v1::ProgressEvent>(p.status());
    return new WatchReactor(&c_->jobs()->progress(), req->job_id());
  }

  ServerUnaryReactor* GetParetoFront(CallbackServerContext* ctx,
                                     const v1::GetParetoFrontRequest* req,
                                     v1::ParetoFront* resp) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok()) return Done(ctx, p.status());
    if (!(req->max_latency_ms() >= 0))
      return Done(ctx, absl::InvalidArgumentError("max_latency_ms: must be >= 0"));
    absl::StatusOr<v1::ParetoFront> f =
        c_->jobs()->queries().ParetoFront(req->job_id(), req->device_class(), req->max_latency_ms());
    if (f.ok()) *resp = *std::move(f);
    return Done(ctx, f.status());
  }

  ServerUnaryReactor* GetCandidate(CallbackServerContext* ctx, const v1::GetCandidateRequest* req,
                                   v1::Candidate* resp) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok()) return Done(ctx, p.status());
    absl::StatusOr<v1::Candidate> cand = c_->jobs()->queries().GetCandidate(req->candidate_id());
    if (cand.ok()) *resp = *std::move(cand);
    return Done(ctx, cand.status());
  }

  ServerUnaryReactor* ListCandidates(CallbackServerContext* ctx,
                                     const v1::ListCandidatesRequest* req,
                                     v1::ListCandidatesResponse* resp) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok()) return Done(ctx, p.status());
    if (req->limit() < 0 || req->limit() > 1000 || req->offset() < 0)
      return Done(ctx, absl::InvalidArgumentError("limit: must be in [0, 1000]; offset >= 0"));
    absl::StatusOr<std::vector<v1::Candidate>> cands = c_->jobs()->queries().ListCandidates(
        req->job_id(), req->limit() > 0 ? req->limit() : 100, req->offset());
    if (cands.ok())
      for (v1::Candidate& cand : *cands) *resp->add_candidates() = std::move(cand);
    return Done(ctx, cands.status());
  }

  grpc::ServerWriteReactor<v1::ModelChunk>* DownloadModel(
      CallbackServerContext* ctx, const v1::DownloadModelRequest* req) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok())
      return new FailedWriter<v1::ModelChunk>(p.status());
    if (req->candidate_id().empty() == req->model_id().empty())
      return new FailedWriter<v1::ModelChunk>(
          absl::InvalidArgumentError("candidate_id: give a candidate_id or a model_id, not both"));
    return StreamModel(req->model_id().empty()
                           ? c_->jobs()->queries().ModelOfCandidate(req->candidate_id())
                           : c_->jobs()->queries().Model(req->model_id()));
  }

  grpc::ServerWriteReactor<v1::ModelChunk>* DownloadCheckpoint(
      CallbackServerContext* ctx, const v1::DownloadCheckpointRequest* req) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok())
      return new FailedWriter<v1::ModelChunk>(p.status());
    return StreamModel(c_->jobs()->queries().Checkpoint(req->job_id(), req->artifact()));
  }

  ServerUnaryReactor* CompressModel(CallbackServerContext* ctx, const v1::CompressModelRequest*,
                                    v1::CompressModelResponse*) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok()) return Done(ctx, p.status());
    return Done(ctx, absl::UnimplementedError("compression is not supported yet"));
  }

  grpc::ServerWriteReactor<v1::ModelChunk>* ExportModel(CallbackServerContext* ctx,
                                                        const v1::ExportModelRequest*) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok())
      return new FailedWriter<v1::ModelChunk>(p.status());
    return new FailedWriter<v1::ModelChunk>(
        absl::UnimplementedError("export is not supported yet"));
  }

 private:
  Coordinator* c_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeSearchService(Coordinator* c) {
  return std::make_unique<SearchServiceImpl>(c);
}

}  // namespace rpc_internal
}  // namespace edgenas
