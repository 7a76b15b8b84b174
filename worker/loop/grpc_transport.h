// WorkerTransport over gRPC: a device's connection to edgenasd. Every call
// carries the worker credential and a deadline.
#ifndef EDGENAS_WORKER_LOOP_GRPC_TRANSPORT_H_
#define EDGENAS_WORKER_LOOP_GRPC_TRANSPORT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>

#include "edgenas/v1/services.grpc.pb.h"
#include "worker/enroll/worker_state.h"
#include "worker/loop/worker_transport.h"

namespace edgenas {

class GrpcTransport : public WorkerTransport {
 public:
  GrpcTransport(WorkerState state, v1::Fingerprint fingerprint,
                std::shared_ptr<grpc::Channel> channel, int rpc_timeout_ms = 30000);

  absl::StatusOr<std::optional<v1::Task>> Acquire(int wait_ms) override;
  absl::StatusOr<std::vector<std::string>> Heartbeat(const std::vector<std::string>& task_ids) override;
  absl::StatusOr<bool> Report(const v1::ReportResultRequest& report, std::string* reason) override;
  absl::StatusOr<std::string> FetchModel(const v1::Task& task) override;
  void Interrupt() override;

 private:
  std::unique_ptr<grpc::ClientContext> Context(int timeout_ms) const;

  const WorkerState state_;
  const v1::Fingerprint fingerprint_;
  const int rpc_timeout_ms_;
  std::unique_ptr<v1::WorkerService::Stub> stub_;
  std::mutex mu_;
  grpc::ClientContext* polling_ = nullptr;  // the AcquireTask in flight
  bool interrupted_ = false;
};

}  // namespace edgenas

#endif  // EDGENAS_WORKER_LOOP_GRPC_TRANSPORT_H_
