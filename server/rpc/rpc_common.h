// Internal to server/rpc: what the three services share (authentication of
// a call, finishing a unary call with a Status, streaming bytes) and the
// factories of the services themselves.
#ifndef EDGENAS_SERVER_RPC_RPC_COMMON_H_
#define EDGENAS_SERVER_RPC_RPC_COMMON_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "edgenas/v1/services.grpc.pb.h"
#include "server/coordinator.h"
#include "server/rpc/services.h"

namespace edgenas {
namespace rpc_internal {

absl::StatusOr<Principal> Authenticate(Coordinator* c, grpc::CallbackServerContext* ctx);
// A client token with `scope`.
absl::StatusOr<Principal> RequireClient(Coordinator* c, grpc::CallbackServerContext* ctx,
                                        const char* scope);
// A worker credential; `claimed_id`, when given, must be its id.
absl::StatusOr<Principal> RequireWorker(Coordinator* c, grpc::CallbackServerContext* ctx,
                                        const std::string& claimed_id);
grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const absl::Status& s);

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
  void Next();
  std::string bytes_;
  size_t offset_ = 0;
  v1::ModelChunk chunk_;
};

// A stream that fails at once with `s`.
template <typename T>
class FailedWriter : public grpc::ServerWriteReactor<T> {
 public:
  explicit FailedWriter(const absl::Status& s) { this->Finish(ToGrpc(s)); }
  void OnDone() override { delete this; }
};

// Model bytes as a stream, or the error as a failed one.
inline grpc::ServerWriteReactor<v1::ModelChunk>* StreamModel(absl::StatusOr<std::string> bytes) {
  if (!bytes.ok()) return new FailedWriter<v1::ModelChunk>(bytes.status());
  return new ChunkWriter(*std::move(bytes));
}

std::unique_ptr<grpc::Service> MakeSearchService(Coordinator* c);
// `stop` is set to what ends its long polls and its thread.
std::unique_ptr<grpc::Service> MakeWorkerService(Coordinator* c, std::function<void()>* stop);
std::unique_ptr<grpc::Service> MakeAdminService(Coordinator* c);

}  // namespace rpc_internal
}  // namespace edgenas

#endif  // EDGENAS_SERVER_RPC_RPC_COMMON_H_
