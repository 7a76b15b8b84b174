#include "server/cli/client.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace edgenas {

void ClientOptions::AddFlags(Flags& flags) {
  if (const char* env = std::getenv("EDGENAS_SERVER")) server = env;
  if (const char* env = std::getenv("EDGENAS_TOKEN_FILE")) token_file = env;
  if (server.empty()) server = "127.0.0.1:50051";
  flags.String("server", &server, "edgenasd address (env EDGENAS_SERVER)");
  flags.String("token-file", &token_file, "file holding the token (env EDGENAS_TOKEN_FILE)");
  flags.String("tls-ca", &tls_ca, "PEM root certificates: connect with TLS");
  flags.Double("timeout", &timeout_s, "seconds before a call gives up");
}

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  if (options.token_file.empty())
    return absl::InvalidArgumentError(
        "--token-file: required (or EDGENAS_TOKEN_FILE); edgenasd wrote an admin token to "
        "DATA_DIR/admin.token at its first start");
  std::ifstream in(options.token_file);
  if (!in) return absl::NotFoundError(absl::StrCat("--token-file ", options.token_file, ": cannot open"));
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) return absl::InvalidArgumentError(absl::StrCat(options.token_file, ": empty"));
  if (!(options.timeout_s > 0 && options.timeout_s <= 86400))
    return absl::InvalidArgumentError("--timeout: must be in (0, 86400]");
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (!options.tls_ca.empty()) {
    std::ifstream ca(options.tls_ca);
    if (!ca) return absl::NotFoundError(absl::StrCat("--tls-ca ", options.tls_ca, ": cannot open"));
    std::stringstream pem;
    pem << ca.rdbuf();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pem.str();
    creds = grpc::SslCredentials(ssl);
  }
  auto c = std::unique_ptr<Client>(new Client());
  c->options_ = options;
  c->token_ = token;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(80 << 20);
  c->channel_ = grpc::CreateCustomChannel(options.server, creds, args);
  c->search_ = v1::SearchService::NewStub(c->channel_);
  c->admin_ = v1::AdminService::NewStub(c->channel_);
  return c;
}

std::unique_ptr<grpc::ClientContext> Client::Context(double timeout_s) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token_);
  const double t = timeout_s > 0 ? timeout_s : options_.timeout_s;
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(static_cast<int64_t>(t * 1000)));
  return ctx;
}

}  // namespace edgenas
