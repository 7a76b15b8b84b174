#include "server/rpc/services.h"

#include "absl/strings/str_cat.h"
#include "server/rpc/rpc_common.h"

namespace edgenas {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

namespace rpc_internal {


absl::StatusOr<Principal> Authenticate(Coordinator* c, grpc::CallbackServerContext* ctx) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end())
    return absl::UnauthenticatedError("missing authorization metadata (Bearer token)");
  return c->auth()->Authenticate(std::string(it->second.data(), it->second.size()));
}

absl::StatusOr<Principal> RequireClient(Coordinator* c, grpc::CallbackServerContext* ctx,
                                        const char* scope) {
  absl::StatusOr<Principal> p = Authenticate(c, ctx);
  if (!p.ok()) return p.status();
  if (p->kind != Principal::Kind::kClient)
    return absl::PermissionDeniedError("a worker credential cannot call this service");
  if (!p->HasScope(scope))
    return absl::PermissionDeniedError(absl::StrCat("this token lacks the '", scope, "' scope"));
  return p;
}

absl::StatusOr<Principal> RequireWorker(Coordinator* c, grpc::CallbackServerContext* ctx,
                                        const std::string& claimed_id) {
  absl::StatusOr<Principal> p = Authenticate(c, ctx);
  if (!p.ok()) return p.status();
  if (p->kind != Principal::Kind::kWorker)
    return absl::PermissionDeniedError("WorkerService takes a worker credential");
  if (!claimed_id.empty() && claimed_id != p->id)
    return absl::PermissionDeniedError("worker_id: does not match the credential");
  return p;
}

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  grpc::ServerUnaryReactor* r = ctx->DefaultReactor();
  r->Finish(ToGrpc(s));
  return r;
}

void ChunkWriter::Next() {
  if (offset_ >= bytes_.size()) return Finish(grpc::Status::OK);
  const size_t n = std::min<size_t>(1 << 20, bytes_.size() - offset_);
  chunk_.set_data(bytes_.substr(offset_, n));
  offset_ += n;
  StartWrite(&chunk_);
}

}  // namespace rpc_internal

Services::Services(Coordinator* coordinator) {
  services_.push_back(rpc_internal::MakeSearchService(coordinator));
  services_.push_back(rpc_internal::MakeWorkerService(coordinator, &stop_));
  services_.push_back(rpc_internal::MakeAdminService(coordinator));
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
