#include "worker/loop/grpc_transport.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

// A model a task starts from is a few MiB at most; this bounds a broken or
// hostile coordinator's stream.
constexpr size_t kMaxModelBytes = 256 << 20;

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

}  // namespace

GrpcTransport::GrpcTransport(WorkerState state, v1::Fingerprint fingerprint,
                             std::shared_ptr<grpc::Channel> channel, int rpc_timeout_ms)
    : state_(std::move(state)),
      fingerprint_(std::move(fingerprint)),
      rpc_timeout_ms_(rpc_timeout_ms),
      stub_(v1::WorkerService::NewStub(channel)) {}

std::unique_ptr<grpc::ClientContext> GrpcTransport::Context(int timeout_ms) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + state_.credential);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  return ctx;
}

absl::StatusOr<std::optional<v1::Task>> GrpcTransport::Acquire(int wait_ms) {
  v1::AcquireTaskRequest req;
  req.set_worker_id(state_.worker_id);
  req.set_role(state_.role);
  req.set_wait_ms(wait_ms);
  v1::AcquireTaskResponse resp;
  std::unique_ptr<grpc::ClientContext> ctx = Context(wait_ms + rpc_timeout_ms_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (interrupted_) return std::optional<v1::Task>();
    polling_ = ctx.get();
  }
  grpc::Status s = stub_->AcquireTask(ctx.get(), req, &resp);
  {
    std::lock_guard<std::mutex> lock(mu_);
    polling_ = nullptr;
  }
  if (!s.ok()) {
    absl::Status status = FromGrpc(s);
    return absl::Status(status.code(), absl::StrCat(state_.coordinator, ": ", status.message()));
  }
  if (!resp.has_task()) return std::optional<v1::Task>();
  return std::optional<v1::Task>(std::move(*resp.mutable_task()));
}

absl::StatusOr<std::vector<std::string>> GrpcTransport::Heartbeat(
    const std::vector<std::string>& task_ids) {
  v1::HeartbeatRequest req;
  req.set_worker_id(state_.worker_id);
  *req.mutable_fingerprint() = fingerprint_;
  for (const std::string& id : task_ids) req.add_leased_task_ids(id);
  v1::HeartbeatResponse resp;
  grpc::Status s = stub_->Heartbeat(Context(rpc_timeout_ms_).get(), req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return std::vector<std::string>(resp.lost_task_ids().begin(), resp.lost_task_ids().end());
}

absl::StatusOr<bool> GrpcTransport::Report(const v1::ReportResultRequest& report,
                                           std::string* reason) {
  v1::ReportResultResponse resp;
  grpc::Status s = stub_->ReportResult(Context(rpc_timeout_ms_).get(), report, &resp);
  if (!s.ok()) return FromGrpc(s);
  *reason = resp.reason();
  return resp.accepted();
}

absl::StatusOr<std::string> GrpcTransport::FetchModel(const v1::Task& task) {
  v1::FetchModelRequest req;
  req.set_worker_id(state_.worker_id);
  req.set_task_id(task.task_id());
  std::unique_ptr<grpc::ClientContext> ctx = Context(rpc_timeout_ms_);
  std::unique_ptr<grpc::ClientReader<v1::ModelChunk>> reader = stub_->FetchModel(ctx.get(), req);
  std::string bytes;
  v1::ModelChunk chunk;
  while (reader->Read(&chunk)) {
    if (bytes.size() + chunk.data().size() > kMaxModelBytes) {
      ctx->TryCancel();
      reader->Finish().IgnoreError();
      return absl::ResourceExhaustedError("FetchModel: the model is larger than 256 MiB");
    }
    bytes += chunk.data();
  }
  if (grpc::Status s = reader->Finish(); !s.ok()) return FromGrpc(s);
  return bytes;
}

void GrpcTransport::Interrupt() {
  std::lock_guard<std::mutex> lock(mu_);
  interrupted_ = true;
  if (polling_ != nullptr) polling_->TryCancel();
}

}  // namespace edgenas
