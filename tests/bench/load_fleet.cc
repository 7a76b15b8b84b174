#include "tests/bench/load_fleet.h"

#include "runtime/tasks/task_kinds.h"

#include <grpcpp/alarm.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <thread>

#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_proto.h"

namespace edgenas {
namespace bench {

using Clock = std::chrono::steady_clock;

namespace {

uint64_t Mix64(uint64_t x) {  // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t SeededHash(const std::string& text, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ULL ^ Mix64(seed);  // FNV-1a, then mixed
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return Mix64(h);
}

double Unit(uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }  // [0, 1)

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "code " + std::to_string(static_cast<int>(code));
  }
}

// A trainer's answer: an accuracy in [0.60, 0.95) fixed by the graph and the seed.
v1::TrainMetrics FakeTraining(const v1::Task& task, uint64_t seed) {
  v1::TrainMetrics m;
  const double acc = 0.60 + 0.35 * Unit(SeededHash(task.graph_hash(), seed));
  m.set_val_accuracy(acc);
  m.set_train_loss(1.0 - acc);
  m.set_epochs(1);
  return m;
}

// A latency worker's answer: a time that grows with the graph's
// multiply-adds, five repeats with a spread of about 1%.
absl::StatusOr<v1::LatencyMeasurement> FakeMeasurement(const v1::Task& task) {
  absl::StatusOr<Graph> graph = GraphFromProto(task.graph());
  if (!graph.ok()) return graph.status();
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(*graph);
  if (!info.ok()) return info.status();
  const double base_ms = 0.02 + 1e-7 * static_cast<double>(info->flops);
  std::vector<double> repeats;
  for (int i = 0; i < 5; ++i)
    repeats.push_back(base_ms * (1.0 + 0.02 * (Unit(SeededHash(task.graph_hash(), i)) - 0.5)));
  v1::LatencyMeasurement m;
  m.set_graph_hash(task.graph_hash());
  m.set_batch(1);
  m.set_threads(1);
  double sum = 0;
  for (double r : repeats) m.add_repeat_ms(r), sum += r;
  const double mean = sum / repeats.size();
  double var = 0;
  for (double r : repeats) var += (r - mean) * (r - mean);
  std::sort(repeats.begin(), repeats.end());
  m.set_median_ms(repeats[2]);
  m.set_p90_ms(repeats[4]);
  m.set_cv(std::sqrt(var / repeats.size()) / mean);
  m.mutable_fingerprint()->set_cpu_model("simulated");
  m.mutable_fingerprint()->set_cores(1);
  return m;
}

}  // namespace

// Types the shard and its workers share; named (not anonymous) because
// FleetShard, declared in the header, holds them.
namespace fleet_internal {

enum Event { kHeartbeatDone, kAcquireDone, kReportDone, kBeatTimer, kWorkTimer, kEvents };

// One unary call slot of a worker. `reader` must go before `context`.
template <typename Response>
struct Call {
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
  Response response;
  grpc::Status status;
  Clock::time_point start;
  bool in_flight = false;
};

class SimWorker;
struct Tag {
  SimWorker* worker;
  Event event;
};

}  // namespace fleet_internal

using fleet_internal::SimWorker;
using fleet_internal::Tag;

// The workers of one client thread, their completion queue and their
// figures. Everything but RequestStop runs on the shard's own thread.
class FleetShard {
 public:
  FleetShard(const FleetOptions& options, Clock::time_point origin)
      : options_(options), origin_(origin), rng_(options.seed) {}

  void Add(std::unique_ptr<SimWorker> w, Clock::duration offset);
  void Start() {
    thread_ = std::thread([this] { Loop(); });
  }
  void RequestStop() { stop_requested_ = true; }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  const FleetOptions& options() const { return options_; }
  grpc::CompletionQueue* cq() { return &cq_; }
  bool stopping() const { return stopping_; }
  void Began() { ++outstanding_; }
  Clock::duration PollDelay() {
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    return std::chrono::microseconds(
        static_cast<int64_t>(1000.0 * options_.idle_poll_ms * jitter(rng_)));
  }
  void Record(int kind, Clock::time_point start, const grpc::Status& s) {
    RpcStats& r = result_.rpcs[kind];
    if (stopping_ && s.error_code() == grpc::StatusCode::CANCELLED) return;  // Interrupt()ed
    if (s.ok()) {
      const Clock::time_point now = Clock::now();
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - start);
      r.micros.push_back(static_cast<uint32_t>(std::min<int64_t>(us.count(), UINT32_MAX)));
      r.done_at_s.push_back(std::chrono::duration<float>(now - origin_).count());
    } else {
      ++r.errors[CodeName(s.error_code())];
    }
  }
  FleetResult& result() { return result_; }

 private:
  void Loop();

  FleetOptions options_;
  Clock::time_point origin_;
  std::mt19937_64 rng_;
  grpc::CompletionQueue cq_;
  std::vector<std::pair<std::unique_ptr<fleet_internal::SimWorker>, Clock::duration>> workers_;
  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  bool stopping_ = false;
  int64_t outstanding_ = 0;  // calls in flight and alarms set: what Finish must wait for
  FleetResult result_;
};

namespace fleet_internal {

class SimWorker {
 public:
  SimWorker(FleetShard* shard, SimWorkerIdentity id, v1::WorkerService::Stub* stub)
      : shard_(shard), id_(std::move(id)), stub_(stub), bearer_("Bearer " + id_.credential) {
    for (int e = 0; e < kEvents; ++e) tags_[e] = Tag{this, static_cast<Event>(e)};
  }

  void Start(Clock::time_point at) {
    next_beat_ = at;
    Arm(&beat_alarm_, at, kBeatTimer);
    Arm(&work_alarm_, at, kWorkTimer);
  }
  // At the end of the run: timers fire at once, and a long-polling
  // AcquireTask gives up instead of holding the drain for its wait_ms.
  void Interrupt() {
    if (armed_[kBeatTimer]) beat_alarm_.Cancel();
    if (armed_[kWorkTimer]) work_alarm_.Cancel();
    if (acquire_.in_flight) acquire_.context->TryCancel();
  }

  void Handle(Event e, bool ok) {
    armed_[e] = false;
    switch (e) {
      case kBeatTimer:
        return OnBeatTimer(ok);
      case kWorkTimer:
        if (!ok || shard_->stopping()) return;
        return task_ ? SendReport() : SendAcquire();
      case kHeartbeatDone:
        return OnHeartbeatDone();
      case kAcquireDone:
        return OnAcquireDone();
      case kReportDone:
        return OnReportDone();
      case kEvents:
        return;
    }
  }

 private:
  void Arm(grpc::Alarm* alarm, Clock::time_point at, Event e) {
    armed_[e] = true;
    shard_->Began();
    alarm->Set(shard_->cq(), std::chrono::system_clock::now() + (at - Clock::now()), &tags_[e]);
  }

  // A fresh context with the credential and a deadline `extra_ms` past the usual one.
  template <typename Response>
  grpc::ClientContext* Prepare(Call<Response>* call, int extra_ms = 0) {
    call->reader.reset();  // it lives in the old call's arena, which goes with the old context
    call->context = std::make_unique<grpc::ClientContext>();
    call->context->AddMetadata("authorization", bearer_);
    call->context->set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::milliseconds(shard_->options().rpc_timeout_ms + extra_ms));
    return call->context.get();
  }
  // Sends the call `reader` was prepared for; `done` comes back on the queue.
  template <typename Response>
  void Send(Call<Response>* call, std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader,
            Event done) {
    call->start = Clock::now();
    call->in_flight = true;
    shard_->Began();
    call->reader = std::move(reader);
    call->reader->StartCall();
    call->reader->Finish(&call->response, &call->status, &tags_[done]);
  }

  void OnBeatTimer(bool ok) {
    if (!ok || shard_->stopping()) return;
    if (heartbeat_.in_flight) {
      ++shard_->result().skipped_heartbeats;
    } else {
      v1::HeartbeatRequest req;
      req.set_worker_id(id_.worker_id);
      if (task_) req.add_leased_task_ids(task_->task_id());
      Send(&heartbeat_, stub_->PrepareAsyncHeartbeat(Prepare(&heartbeat_), req, shard_->cq()),
           kHeartbeatDone);
    }
    const auto period = std::chrono::milliseconds(shard_->options().heartbeat_ms);
    next_beat_ += period;
    if (next_beat_ < Clock::now()) next_beat_ = Clock::now() + period;  // fell behind: do not burst
    Arm(&beat_alarm_, next_beat_, kBeatTimer);
  }

  void OnHeartbeatDone() {
    heartbeat_.in_flight = false;
    shard_->Record(kHeartbeat, heartbeat_.start, heartbeat_.status);
    // A report on its way may be committed before the heartbeat arrives: not a loss.
    if (heartbeat_.status.ok() && task_ && !report_.in_flight)
      for (const std::string& id : heartbeat_.response.lost_task_ids())
        if (id == task_->task_id()) ++shard_->result().lost_leases;
  }

  void SendAcquire() {
    v1::AcquireTaskRequest req;
    req.set_worker_id(id_.worker_id);
    req.set_role(id_.role);
    req.set_wait_ms(shard_->options().acquire_wait_ms);
    grpc::ClientContext* context = Prepare(&acquire_, shard_->options().acquire_wait_ms);
    Send(&acquire_, stub_->PrepareAsyncAcquireTask(context, req, shard_->cq()), kAcquireDone);
  }

  void OnAcquireDone() {
    acquire_.in_flight = false;
    shard_->Record(kAcquireTask, acquire_.start, acquire_.status);
    if (shard_->stopping()) return;
    if (!acquire_.status.ok() || !acquire_.response.has_task()) {
      if (acquire_.status.ok()) ++shard_->result().empty_acquires;
      return Arm(&work_alarm_, Clock::now() + shard_->PollDelay(), kWorkTimer);
    }
    task_ = std::make_unique<v1::Task>(std::move(*acquire_.response.mutable_task()));
    ++(task_->kind() == kTrainTask ? shard_->result().train_tasks
                                   : shard_->result().measure_tasks);
    if (shard_->options().work_ms > 0)
      return Arm(&work_alarm_, Clock::now() + std::chrono::milliseconds(shard_->options().work_ms),
                 kWorkTimer);
    SendReport();
  }

  void SendReport() {
    report_request_.Clear();
    report_request_.set_worker_id(id_.worker_id);
    report_request_.set_task_id(task_->task_id());
    report_request_.set_attempt(task_->attempt());
    if (task_->kind() == kTrainTask) {
      *report_request_.mutable_train() = FakeTraining(*task_, shard_->options().seed);
    } else {
      absl::StatusOr<v1::LatencyMeasurement> m = FakeMeasurement(*task_);
      if (m.ok()) {
        *report_request_.mutable_latency() = *std::move(m);
        report_request_.mutable_latency()->set_device_class(shard_->options().device_class);
        report_request_.mutable_latency()->set_worker_id(id_.worker_id);
      } else {
        report_request_.set_error(std::string(m.status().message()));
      }
    }
    grpc::ClientContext* context = Prepare(&report_);
    Send(&report_, stub_->PrepareAsyncReportResult(context, report_request_, shard_->cq()),
         kReportDone);
  }

  void OnReportDone() {
    report_.in_flight = false;
    shard_->Record(kReportResult, report_.start, report_.status);
    FleetResult& r = shard_->result();
    if (report_.status.ok() && report_.response.accepted()) {
      ++(task_->kind() == kTrainTask ? r.accepted_train : r.accepted_latency);
    } else if (report_.status.ok()) {
      ++r.refused[report_.response.reason()];
    }
    task_.reset();
    if (shard_->stopping()) return;
    if (report_.status.ok())
      return SendAcquire();  // a worker that just finished asks again at once
    Arm(&work_alarm_, Clock::now() + shard_->PollDelay(), kWorkTimer);
  }

  FleetShard* shard_;
  SimWorkerIdentity id_;
  v1::WorkerService::Stub* stub_;
  const std::string bearer_;
  Tag tags_[kEvents];
  bool armed_[kEvents] = {};
  grpc::Alarm beat_alarm_, work_alarm_;
  Clock::time_point next_beat_;
  Call<v1::HeartbeatResponse> heartbeat_;
  Call<v1::AcquireTaskResponse> acquire_;
  Call<v1::ReportResultResponse> report_;
  v1::ReportResultRequest report_request_;
  std::unique_ptr<v1::Task> task_;  // the task leased and not yet reported
};

}  // namespace fleet_internal

void FleetShard::Add(std::unique_ptr<SimWorker> w, Clock::duration offset) {
  workers_.emplace_back(std::move(w), offset);
}

void FleetShard::Loop() {
  const Clock::time_point start = Clock::now();
  for (auto& [w, offset] : workers_) w->Start(start + offset);
  bool shut_down = false;
  for (;;) {
    void* tag = nullptr;
    bool ok = false;
    const grpc::CompletionQueue::NextStatus next =
        cq_.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + std::chrono::milliseconds(50));
    if (next == grpc::CompletionQueue::SHUTDOWN) break;
    if (next == grpc::CompletionQueue::GOT_EVENT) {
      --outstanding_;
      Tag* t = static_cast<Tag*>(tag);
      t->worker->Handle(t->event, ok);
    }
    if (stop_requested_ && !stopping_) {
      stopping_ = true;
      for (auto& [w, offset] : workers_) w->Interrupt();
    }
    if (stopping_ && outstanding_ == 0 && !shut_down) {
      cq_.Shutdown();
      shut_down = true;
    }
  }
}

const char* RpcKindName(int kind) {
  switch (kind) {
    case kHeartbeat:
      return "Heartbeat";
    case kAcquireTask:
      return "AcquireTask";
    case kReportResult:
      return "ReportResult";
    default:
      return "?";
  }
}

std::shared_ptr<grpc::Channel> OwnConnection(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

Fleet::Fleet(FleetOptions options, std::vector<std::shared_ptr<grpc::Channel>> channels,
             std::vector<SimWorkerIdentity> workers)
    : options_(std::move(options)), channels_(std::move(channels)), workers_(std::move(workers)) {
  for (const auto& c : channels_) stubs_.push_back(v1::WorkerService::NewStub(c));
}

Fleet::~Fleet() {
  if (!shards_.empty()) Stop();
}

void Fleet::Start() {
  started_ = Clock::now();
  const int threads = std::max(1, options_.client_threads);
  for (int i = 0; i < threads; ++i)
    shards_.push_back(std::make_unique<FleetShard>(options_, started_));
  for (size_t i = 0; i < workers_.size(); ++i) {
    FleetShard* shard = shards_[i % shards_.size()].get();
    // Spread over the first heartbeat period, so the fleet does not beat in step.
    const auto offset = std::chrono::microseconds(
        static_cast<int64_t>(1000.0 * options_.heartbeat_ms * i / workers_.size()));
    shard->Add(std::make_unique<SimWorker>(shard, workers_[i], stubs_[workers_[i].channel].get()),
               offset);
  }
  for (auto& s : shards_) s->Start();
}

FleetResult Fleet::Stop() {
  for (auto& s : shards_) s->RequestStop();
  FleetResult total;
  for (auto& s : shards_) {
    s->Join();
    FleetResult& r = s->result();
    for (int k = 0; k < kRpcKinds; ++k) {
      RpcStats &to = total.rpcs[k], &from = r.rpcs[k];
      to.micros.insert(to.micros.end(), from.micros.begin(), from.micros.end());
      to.done_at_s.insert(to.done_at_s.end(), from.done_at_s.begin(), from.done_at_s.end());
      for (const auto& [code, n] : from.errors) to.errors[code] += n;
    }
    total.train_tasks += r.train_tasks;
    total.measure_tasks += r.measure_tasks;
    total.empty_acquires += r.empty_acquires;
    total.accepted_train += r.accepted_train;
    total.accepted_latency += r.accepted_latency;
    for (const auto& [reason, n] : r.refused) total.refused[reason] += n;
    total.lost_leases += r.lost_leases;
    total.skipped_heartbeats += r.skipped_heartbeats;
  }
  total.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  shards_.clear();
  return total;
}

}  // namespace bench
}  // namespace edgenas
