// WorkerService: what devices and trainers call (enrollment, heartbeats,
// long-polled task leases, results, the models their tasks start from).
#include <atomic>
#include <list>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/rpc/rpc_common.h"

namespace edgenas {
namespace rpc_internal {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

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

  grpc::ServerWriteReactor<v1::ModelChunk>* FetchModel(CallbackServerContext* ctx,
                                                       const v1::FetchModelRequest* req) override {
    absl::StatusOr<Principal> p = RequireWorker(c_, ctx, req->worker_id());
    if (!p.ok()) return new FailedWriter<v1::ModelChunk>(p.status());
    // Only the model of a task this worker holds: never a model by its name.
    absl::StatusOr<v1::Task> task = c_->tasks()->Leased(p->id, req->task_id());
    if (!task.ok()) return new FailedWriter<v1::ModelChunk>(task.status());
    if (task->initial_model_id().empty())
      return new FailedWriter<v1::ModelChunk>(
          absl::NotFoundError("task_id: this task starts from no model"));
    return StreamModel(c_->jobs()->queries().Model(task->initial_model_id()));
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

}  // namespace

std::unique_ptr<grpc::Service> MakeWorkerService(Coordinator* c, std::function<void()>* stop) {
  auto service = std::make_unique<WorkerServiceImpl>(c);
  WorkerServiceImpl* w = service.get();
  *stop = [w] { w->Stop(); };
  return service;
}

}  // namespace rpc_internal
}  // namespace edgenas
