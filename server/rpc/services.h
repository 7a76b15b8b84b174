// The gRPC services (callback API) over a Coordinator: SearchService,
// WorkerService and AdminService. Every call is authenticated; handlers never
// wait on the store's writer inside a reaction.
#ifndef EDGENAS_SERVER_RPC_SERVICES_H_
#define EDGENAS_SERVER_RPC_SERVICES_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "server/coordinator.h"

namespace edgenas {

grpc::Status ToGrpc(const absl::Status& s);

// The three services. They must outlive the grpc::Server they are
// registered with. Stop() ends long-polling calls and the service's own
// thread: call it before shutting the server down, and shut the coordinator
// down only after that.
class Services {
 public:
  explicit Services(Coordinator* coordinator);
  ~Services();
  std::vector<grpc::Service*> all();
  void Stop();

 private:
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::function<void()> stop_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_RPC_SERVICES_H_
