// Who is calling: client tokens with scopes, one-time enrollment tokens bound
// to a device class, and worker credentials. Secrets are stored only as
// SHA-256 hashes; every lookup goes by hash.
#ifndef EDGENAS_SERVER_AUTH_AUTHENTICATOR_H_
#define EDGENAS_SERVER_AUTH_AUTHENTICATOR_H_

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edgenas/v1/services.pb.h"
#include "server/store/store.h"

namespace edgenas {

struct Principal {
  enum class Kind { kClient, kWorker };
  Kind kind = Kind::kClient;
  std::string id;                   // token id or worker id
  std::vector<std::string> scopes;  // clients: "search", "admin"
  std::string device_class;         // workers
  v1::WorkerRole role = v1::WORKER_ROLE_UNSPECIFIED;
  int64_t expires_ms = 0;           // 0: never

  bool HasScope(const std::string& scope) const;
};

class Authenticator {
 public:
  using Clock = std::function<int64_t()>;
  Authenticator(Store* store, Clock clock) : store_(store), clock_(std::move(clock)) {}

  // On a fresh database, creates an admin client token (scopes search and
  // admin) and returns its secret, to be written where the operator can read
  // it; returns "" when one exists.
  absl::StatusOr<std::string> BootstrapAdminToken();

  // The principal behind "Bearer <secret>" (or the bare secret). UNAUTHENTICATED
  // when unknown, expired or revoked.
  absl::StatusOr<Principal> Authenticate(const std::string& authorization);

  absl::StatusOr<v1::CreateTokenResponse> CreateToken(const v1::CreateTokenRequest& request);
  absl::StatusOr<std::vector<v1::TokenInfo>> ListTokens();
  absl::Status RevokeToken(const std::string& token_id);

  // Spends a one-time enrollment token and creates a worker with a fresh
  // credential (returned once).
  absl::StatusOr<v1::EnrollResponse> Enroll(const v1::EnrollRequest& request);
  absl::StatusOr<std::vector<v1::WorkerInfo>> ListWorkers(int64_t stale_after_ms);
  absl::Status RevokeWorker(const std::string& worker_id);
  // Remembers that a worker was seen (kept in memory; written now and then).
  void Seen(const std::string& worker_id, const v1::Fingerprint* fingerprint);
  void FlushSeen();

 private:
  absl::StatusOr<Principal> LookUp(const std::string& secret_hash);

  Store* store_;
  Clock clock_;
  std::mutex mu_;
  std::map<std::string, Principal> cache_;     // by secret hash
  uint64_t revocations_ = 0;  // a lookup that overlapped a revocation is not cached
  std::map<std::string, int64_t> last_seen_;   // by worker id, not yet written
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_AUTH_AUTHENTICATOR_H_
