// AdminService: tokens and workers.
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/rpc/rpc_common.h"

namespace edgenas {
namespace rpc_internal {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

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

std::unique_ptr<grpc::Service> MakeAdminService(Coordinator* c) {
  return std::make_unique<AdminServiceImpl>(c);
}

}  // namespace rpc_internal
}  // namespace edgenas
