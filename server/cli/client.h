// The CLI's connection to edgenasd: address and token from flags or the
// environment (EDGENAS_SERVER, EDGENAS_TOKEN_FILE), and a deadline on every call.
#ifndef EDGENAS_SERVER_CLI_CLIENT_H_
#define EDGENAS_SERVER_CLI_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "edgenas/v1/services.grpc.pb.h"
#include "runtime/util/flags.h"

namespace edgenas {

struct ClientOptions {
  std::string server;      // host:port
  std::string token_file;  // holds the token on its first line
  std::string tls_ca;      // PEM roots: TLS when given
  double timeout_s = 30;

  // Registers --server, --token-file, --tls-ca, --timeout.
  void AddFlags(Flags& flags);
};

class Client {
 public:
  static absl::StatusOr<std::unique_ptr<Client>> Connect(ClientOptions options);

  v1::SearchService::Stub& search() { return *search_; }
  v1::AdminService::Stub& admin() { return *admin_; }
  // A context with the token and the deadline set (`timeout_s` overrides).
  std::unique_ptr<grpc::ClientContext> Context(double timeout_s = 0) const;

 private:
  ClientOptions options_;
  std::string token_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SearchService::Stub> search_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

absl::Status FromGrpc(const grpc::Status& s);

}  // namespace edgenas

#endif  // EDGENAS_SERVER_CLI_CLIENT_H_
