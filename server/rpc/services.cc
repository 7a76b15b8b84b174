#include "server/rpc/services.h"

#include <atomic>
#include <deque>
#include <list>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "edgenas/v1/services.grpc.pb.h"
#include "server/jobs/job_spec.h"

namespace edgenas {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

absl::StatusOr<Principal> Authenticate(Coordinator* c, CallbackServerContext* ctx) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end())
    return absl::UnauthenticatedError("missing authorization metadata (Bearer token)");
  return c->auth()->Authenticate(std::string(it->second.data(), it->second.size()));
}

absl::StatusOr<Principal> RequireClient(Coordinator* c, CallbackServerContext* ctx,
                                        const char* scope) {
  absl::StatusOr<Principal> p = Authenticate(c, ctx);
  if (!p.ok()) return p.status();
  if (p->kind != Principal::Kind::kClient)
    return absl::PermissionDeniedError("a worker credential cannot call this service");
  if (!p->HasScope(scope))
    return absl::PermissionDeniedError(absl::StrCat("this token lacks the '", scope, "' scope"));
  return p;
}

absl::StatusOr<Principal> RequireWorker(Coordinator* c, CallbackServerContext* ctx,
                                        const std::string& claimed_id) {
  absl::StatusOr<Principal> p = Authenticate(c, ctx);
  if (!p.ok()) return p.status();
  if (p->kind != Principal::Kind::kWorker)
    return absl::PermissionDeniedError("WorkerService takes a worker credential");
  if (!claimed_id.empty() && claimed_id != p->id)
    return absl::PermissionDeniedError("worker_id: does not match the credential");
  return p;
}

ServerUnaryReactor* Done(CallbackServerContext* ctx, const absl::Status& s) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  r->Finish(ToGrpc(s));
  return r;
}

// Streams progress events of one job until it ends or the client goes away.
class WatchReactor : public grpc::ServerWriteReactor<v1::ProgressEvent> {
 public:
  WatchReactor(JobManager* jobs, const std::string& job_id)
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

  JobManager* jobs_;
  std::shared_ptr<State> state_;
  int subscription_ = 0;
};

// Sends a byte string as 1 MiB chunks.
class ChunkWriter : public grpc::ServerWriteReactor<v1::ModelChunk> {
 public:
  explicit ChunkWriter(std::string bytes) : bytes_(std::move(bytes)) { Next(); }
  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
    Next();
  }
  void OnDone() override { delete this; }

 private:
  void Next() {
    if (offset_ >= bytes_.size()) return Finish(grpc::Status::OK);
    const size_t n = std::min<size_t>(1 << 20, bytes_.size() - offset_);
    chunk_.set_data(bytes_.substr(offset_, n));
    offset_ += n;
    StartWrite(&chunk_);
  }
  std::string bytes_;
  size_t offset_ = 0;
  v1::ModelChunk chunk_;
};

template <typename T>
class FailedWriter : public grpc::ServerWriteReactor<T> {
 public:
  explicit FailedWriter(const absl::Status& s) { this->Finish(ToGrpc(s)); }
  void OnDone() override { delete this; }
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
    absl::StatusOr<v1::Job> job = c_->jobs()->Get(req->job_id());
    if (job.ok()) *resp = *std::move(job);
    return Done(ctx, job.status());
  }

  ServerUnaryReactor* ListJobs(CallbackServerContext* ctx, const v1::ListJobsRequest* req,
                               v1::ListJobsResponse* resp) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok()) return Done(ctx, p.status());
    if (req->limit() < 0 || req->limit() > 10000)
      return Done(ctx, absl::InvalidArgumentError("limit: must be in [0, 10000]"));
    absl::StatusOr<std::vector<v1::Job>> jobs =
        c_->jobs()->List(req->limit() > 0 ? req->limit() : 100);
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
    return new WatchReactor(c_->jobs(), req->job_id());
  }

  ServerUnaryReactor* GetParetoFront(CallbackServerContext* ctx,
                                     const v1::GetParetoFrontRequest* req,
                                     v1::ParetoFront* resp) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok()) return Done(ctx, p.status());
    if (!(req->max_latency_ms() >= 0))
      return Done(ctx, absl::InvalidArgumentError("max_latency_ms: must be >= 0"));
    absl::StatusOr<v1::ParetoFront> f =
        c_->jobs()->ParetoFront(req->job_id(), req->device_class(), req->max_latency_ms());
    if (f.ok()) *resp = *std::move(f);
    return Done(ctx, f.status());
  }

  ServerUnaryReactor* GetCandidate(CallbackServerContext* ctx, const v1::GetCandidateRequest* req,
                                   v1::Candidate* resp) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok()) return Done(ctx, p.status());
    absl::StatusOr<v1::Candidate> cand = c_->jobs()->GetCandidate(req->candidate_id());
    if (cand.ok()) *resp = *std::move(cand);
    return Done(ctx, cand.status());
  }

  ServerUnaryReactor* ListCandidates(CallbackServerContext* ctx,
                                     const v1::ListCandidatesRequest* req,
                                     v1::ListCandidatesResponse* resp) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok()) return Done(ctx, p.status());
    if (req->limit() < 0 || req->limit() > 1000 || req->offset() < 0)
      return Done(ctx, absl::InvalidArgumentError("limit: must be in [0, 1000]; offset >= 0"));
    absl::StatusOr<std::vector<v1::Candidate>> cands = c_->jobs()->ListCandidates(
        req->job_id(), req->limit() > 0 ? req->limit() : 100, req->offset());
    if (cands.ok())
      for (v1::Candidate& cand : *cands) *resp->add_candidates() = std::move(cand);
    return Done(ctx, cands.status());
  }

  grpc::ServerWriteReactor<v1::ModelChunk>* DownloadModel(
      CallbackServerContext* ctx, const v1::DownloadModelRequest* req) override {
    if (auto p = RequireClient(c_, ctx, "search"); !p.ok())
      return new FailedWriter<v1::ModelChunk>(p.status());
    absl::StatusOr<std::string> bytes = c_->jobs()->ModelFile(req->candidate_id());
    if (!bytes.ok()) return new FailedWriter<v1::ModelChunk>(bytes.status());
    return new ChunkWriter(*std::move(bytes));
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

class WorkerServiceImpl : public v1::WorkerService::CallbackService {
 public:
  explicit WorkerServiceImpl(Coordinator* c) : c_(c) {
    dispatcher_ = std::thread([this] { Dispatch(); });
  }
  ~WorkerServiceImpl() override { Stop(); }

  // Ends the dispatcher and answers every parked AcquireTask (no task).
  void Stop() {
    if (stop_.exchange(true)) return;
    if (dispatcher_.joinable()) dispatcher_.join();
    std::list<Waiter> parked;
    {
      std::lock_guard<std::mutex> lock(mu_);
      parked.swap(waiters_);
    }
    for (Waiter& w : parked) w.reactor->Finish(grpc::Status::OK);
  }

  ServerUnaryReactor* Enroll(CallbackServerContext* ctx, const v1::EnrollRequest* req,
                             v1::EnrollResponse* resp) override {
    absl::StatusOr<v1::EnrollResponse> r = c_->auth()->Enroll(*req);
    if (r.ok()) *resp = *std::move(r);
    return Done(ctx, r.status());
  }

  ServerUnaryReactor* Heartbeat(CallbackServerContext* ctx, const v1::HeartbeatRequest* req,
                                v1::HeartbeatResponse* resp) override {
    absl::StatusOr<Principal> p = RequireWorker(c_, ctx, req->worker_id());
    if (!p.ok()) return Done(ctx, p.status());
    if (req->leased_task_ids_size() > 1000)
      return Done(ctx, absl::InvalidArgumentError("leased_task_ids: at most 1000"));
    std::vector<std::string> ids(req->leased_task_ids().begin(), req->leased_task_ids().end());
    for (std::string& lost : c_->tasks()->Heartbeat(p->id, ids))
      resp->add_lost_task_ids(std::move(lost));
    c_->auth()->Seen(p->id, req->has_fingerprint() ? &req->fingerprint() : nullptr);
    return Done(ctx, absl::OkStatus());
  }

  ServerUnaryReactor* AcquireTask(CallbackServerContext* ctx, const v1::AcquireTaskRequest* req,
                                  v1::AcquireTaskResponse* resp) override {
    absl::StatusOr<Principal> p = RequireWorker(c_, ctx, req->worker_id());
    if (!p.ok()) return Done(ctx, p.status());
    if (req->role() != v1::WORKER_ROLE_UNSPECIFIED && req->role() != p->role)
      return Done(ctx, absl::PermissionDeniedError("role: this worker enrolled with another role"));
    if (req->wait_ms() < 0 || req->wait_ms() > 30000)
      return Done(ctx, absl::InvalidArgumentError("wait_ms: must be in [0, 30000]"));
    c_->auth()->Seen(p->id, nullptr);
    ServerUnaryReactor* reactor = ctx->DefaultReactor();
    Try(Waiter{ctx, reactor, resp, p->id, p->role, p->device_class, c_->now_ms() + req->wait_ms()});
    return reactor;
  }

  ServerUnaryReactor* ReportResult(CallbackServerContext* ctx, const v1::ReportResultRequest* req,
                                   v1::ReportResultResponse* resp) override {
    absl::StatusOr<Principal> p = RequireWorker(c_, ctx, req->worker_id());
    if (!p.ok()) return Done(ctx, p.status());
    ServerUnaryReactor* reactor = ctx->DefaultReactor();
    c_->auth()->Seen(p->id, nullptr);
    c_->tasks()->Report(*req, [reactor, resp](absl::StatusOr<ReportVerdict> v) {
      if (!v.ok()) return reactor->Finish(ToGrpc(v.status()));
      resp->set_accepted(v->accepted);
      resp->set_reason(v->reason);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

 private:
  struct Waiter {
    CallbackServerContext* ctx;  // valid until the reactor finishes
    ServerUnaryReactor* reactor;
    v1::AcquireTaskResponse* response;
    std::string worker_id;
    v1::WorkerRole role;
    std::string device_class;
    int64_t deadline_ms;
  };

  static void Abandoned(const Waiter& w) {
    w.reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the worker gave up waiting"));
  }

  // Tries to lease a task now; parks the waiter when nothing is ready and its
  // wait has not run out. A worker that has given up the call (its deadline,
  // SIGTERM) gets nothing: a task leased to it would wait out its lease.
  void Try(Waiter w) {
    if (w.ctx->IsCancelled()) return Abandoned(w);
    c_->tasks()->AcquireAsync(w.worker_id, w.role, w.device_class,
                              [this, w](absl::StatusOr<std::optional<v1::Task>> t) {
                                if (!t.ok()) return w.reactor->Finish(ToGrpc(t.status()));
                                if (*t) {
                                  if (w.ctx->IsCancelled()) {  // gone while it was leased
                                    c_->tasks()->ReleaseTask(w.worker_id, (*t)->task_id());
                                    return Abandoned(w);
                                  }
                                  *w.response->mutable_task() = **t;
                                  return w.reactor->Finish(grpc::Status::OK);
                                }
                                {
                                  std::lock_guard<std::mutex> lock(mu_);
                                  if (c_->now_ms() < w.deadline_ms && !stop_) {
                                    waiters_.push_back(w);
                                    return;
                                  }
                                }
                                w.reactor->Finish(grpc::Status::OK);
                              });
  }

  void Dispatch() {
    uint64_t seen = 0;
    while (!stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const uint64_t gen = c_->tasks()->generation();
      const int64_t now = c_->now_ms();
      std::vector<Waiter> retry, expired, abandoned;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto it = waiters_.begin(); it != waiters_.end();) {
          if (it->ctx->IsCancelled()) {
            abandoned.push_back(*it);
            it = waiters_.erase(it);
          } else if (now >= it->deadline_ms) {
            expired.push_back(*it);
            it = waiters_.erase(it);
          } else if (gen != seen) {
            retry.push_back(*it);
            it = waiters_.erase(it);
          } else {
            ++it;
          }
        }
      }
      seen = gen;
      for (Waiter& w : abandoned) Abandoned(w);
      for (Waiter& w : expired) w.reactor->Finish(grpc::Status::OK);
      for (Waiter& w : retry) Try(std::move(w));
    }
  }

  Coordinator* c_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::list<Waiter> waiters_;
  std::thread dispatcher_;
};

class AdminServiceImpl : public v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(Coordinator* c) : c_(c) {}

  ServerUnaryReactor* CreateToken(CallbackServerContext* ctx, const v1::CreateTokenRequest* req,
                                  v1::CreateTokenResponse* resp) override {
    if (auto p = RequireClient(c_, ctx, "admin"); !p.ok()) return Done(ctx, p.status());
    absl::StatusOr<v1::CreateTokenResponse> r = c_->auth()->CreateToken(*req);
    if (r.ok()) *resp = *std::move(r);
    return Done(ctx, r.status());
  }

  ServerUnaryReactor* ListTokens(CallbackServerContext* ctx, const v1::ListTokensRequest*,
                                 v1::ListTokensResponse* resp) override {
    if (auto p = RequireClient(c_, ctx, "admin"); !p.ok()) return Done(ctx, p.status());
    absl::StatusOr<std::vector<v1::TokenInfo>> r = c_->auth()->ListTokens();
    if (r.ok())
      for (v1::TokenInfo& t : *r) *resp->add_tokens() = std::move(t);
    return Done(ctx, r.status());
  }

  ServerUnaryReactor* RevokeToken(CallbackServerContext* ctx, const v1::RevokeTokenRequest* req,
                                  v1::RevokeTokenResponse*) override {
    if (auto p = RequireClient(c_, ctx, "admin"); !p.ok()) return Done(ctx, p.status());
    return Done(ctx, c_->auth()->RevokeToken(req->token_id()));
  }

  ServerUnaryReactor* ListWorkers(CallbackServerContext* ctx, const v1::ListWorkersRequest*,
                                  v1::ListWorkersResponse* resp) override {
    if (auto p = RequireClient(c_, ctx, "admin"); !p.ok()) return Done(ctx, p.status());
    absl::StatusOr<std::vector<v1::WorkerInfo>> r = c_->auth()->ListWorkers(30000);
    if (r.ok())
      for (v1::WorkerInfo& w : *r) *resp->add_workers() = std::move(w);
    return Done(ctx, r.status());
  }

  ServerUnaryReactor* RevokeWorker(CallbackServerContext* ctx, const v1::RevokeWorkerRequest* req,
                                   v1::RevokeWorkerResponse*) override {
    if (auto p = RequireClient(c_, ctx, "admin"); !p.ok()) return Done(ctx, p.status());
    absl::Status s = c_->auth()->RevokeWorker(req->worker_id());
    if (s.ok()) c_->tasks()->ReleaseWorker(req->worker_id());
    return Done(ctx, s);
  }

 private:
  Coordinator* c_;
};

}  // namespace

Services::Services(Coordinator* coordinator) {
  auto workers = std::make_unique<WorkerServiceImpl>(coordinator);
  WorkerServiceImpl* w = workers.get();
  stop_ = [w] { w->Stop(); };
  services_.push_back(std::make_unique<SearchServiceImpl>(coordinator));
  services_.push_back(std::move(workers));
  services_.push_back(std::make_unique<AdminServiceImpl>(coordinator));
}

Services::~Services() { Stop(); }

std::vector<grpc::Service*> Services::all() {
  std::vector<grpc::Service*> out;
  for (auto& s : services_) out.push_back(s.get());
  return out;
}

void Services::Stop() {
  if (stop_) stop_();
}

}  // namespace edgenas
