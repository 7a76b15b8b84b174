#include "server/auth/authenticator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/auth/token.h"
#include "server/store/ids.h"

namespace edgenas {
namespace {

constexpr int kClient = v1::CreateTokenRequest::KIND_CLIENT;
constexpr int kEnrollment = v1::CreateTokenRequest::KIND_ENROLLMENT;

bool ValidDeviceClass(const std::string& c) {
  if (c.empty() || c.size() > 64) return false;
  return std::all_of(c.begin(), c.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
  });
}

absl::Status Unauthenticated() {
  return absl::UnauthenticatedError("a valid token is required (authorization: Bearer <token>)");
}

}  // namespace

bool Principal::HasScope(const std::string& scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

absl::StatusOr<std::string> Authenticator::BootstrapAdminToken() {
  absl::StatusOr<std::string> secret = GenerateSecret(kClientTokenPrefix);
  if (!secret.ok()) return secret.status();
  bool created = false;
  const int64_t now = clock_();
  absl::Status s = store_->Write([&](Db& db) -> absl::Status {
    absl::StatusOr<std::optional<int64_t>> admins = db.QueryInt(
        "SELECT COUNT(*) FROM tokens WHERE kind = ? AND revoked = 0 AND scopes LIKE '%admin%'",
        kClient);
    if (!admins.ok()) return admins.status();
    if (admins->value_or(0) > 0) return absl::OkStatus();
    created = true;
    return db.Run(
        "INSERT INTO tokens (id, secret_hash, kind, scopes, description, created_ms, expires_ms) "
        "VALUES (?, ?, ?, 'search,admin', 'created at first start', ?, 0)",
        NewId("tok"), HashSecret(*secret), kClient, now);
  });
  if (!s.ok()) return s;
  return created ? *secret : std::string();
}

absl::StatusOr<Principal> Authenticator::Authenticate(const std::string& authorization) {
  std::string secret = authorization;
  if (secret.rfind("Bearer ", 0) == 0) secret = secret.substr(7);
  if (secret.empty() || secret.size() > 512) return Unauthenticated();
  const std::string hash = HashSecret(secret);
  uint64_t revocations = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end()) {
      if (it->second.expires_ms == 0 || it->second.expires_ms > clock_()) return it->second;
      cache_.erase(it);
      return Unauthenticated();
    }
    revocations = revocations_;
  }
  absl::StatusOr<Principal> p = LookUp(hash);
  if (!p.ok()) return p.status();
  std::lock_guard<std::mutex> lock(mu_);
  // A revocation that committed after LookUp's snapshot has already swept
  // the cache; caching this answer now would bring the secret back to life.
  if (revocations == revocations_) cache_[hash] = *p;
  return p;
}

absl::StatusOr<Principal> Authenticator::LookUp(const std::string& hash) {
  Principal p;
  bool found = false;
  const int64_t now = clock_();
  absl::Status s = store_->Read([&](Db& db) -> absl::Status {
    absl::StatusOr<Stmt> st = db.Query(
        "SELECT id, scopes, expires_ms FROM tokens WHERE secret_hash = ? AND kind = ? AND revoked = 0",
        hash, kClient);
    if (!st.ok()) return st.status();
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (*row && (st->Int(2) == 0 || st->Int(2) > now)) {
      p.kind = Principal::Kind::kClient;
      p.id = st->Text(0);
      p.scopes = absl::StrSplit(st->Text(1), ',', absl::SkipEmpty());
      p.expires_ms = st->Int(2);
      found = true;
      return absl::OkStatus();
    }
    absl::StatusOr<Stmt> w = db.Query(
        "SELECT id, device_class, role FROM workers WHERE credential_hash = ? AND revoked = 0", hash);
    if (!w.ok()) return w.status();
    absl::StatusOr<bool> wrow = w->Step();
    if (!wrow.ok()) return wrow.status();
    if (*wrow) {
      p.kind = Principal::Kind::kWorker;
      p.id = w->Text(0);
      p.device_class = w->Text(1);
      p.role = static_cast<v1::WorkerRole>(w->Int(2));
      found = true;
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!found) return Unauthenticated();
  return p;
}

absl::StatusOr<v1::CreateTokenResponse> Authenticator::CreateToken(const v1::CreateTokenRequest& r) {
  if (r.kind() != kClient && r.kind() != kEnrollment)
    return absl::InvalidArgumentError("kind: must be KIND_CLIENT or KIND_ENROLLMENT");
  if (r.ttl_seconds() < 0 || r.ttl_seconds() > 10LL * 365 * 86400)
    return absl::InvalidArgumentError("ttl_seconds: must be in [0, 10 years]");
  if (r.description().size() > 200) return absl::InvalidArgumentError("description: at most 200 characters");
  std::vector<std::string> scopes;
  if (r.kind() == kClient) {
    if (r.scopes_size() == 0) return absl::InvalidArgumentError("scopes: give search and/or admin");
    for (const std::string& sc : r.scopes()) {
      if (sc != "search" && sc != "admin")
        return absl::InvalidArgumentError(absl::StrCat("scopes: unknown scope '", sc.substr(0, 32),
                                                       "' (known: search, admin)"));
      scopes.push_back(sc);
    }
  } else {
    if (!ValidDeviceClass(r.device_class()))
      return absl::InvalidArgumentError("device_class: 1-64 characters of [a-z0-9-], e.g. rpi4");
    // An enrollment token that never expires would be a standing invitation.
    if (r.ttl_seconds() == 0) return absl::InvalidArgumentError("ttl_seconds: enrollment tokens must expire");
  }
  absl::StatusOr<std::string> secret =
      GenerateSecret(r.kind() == kClient ? kClientTokenPrefix : kEnrollmentTokenPrefix);
  if (!secret.ok()) return secret.status();
  v1::CreateTokenResponse out;
  out.set_token_id(NewId("tok"));
  out.set_token(*secret);
  const int64_t now = clock_();
  out.set_expires_at_ms(r.ttl_seconds() > 0 ? now + r.ttl_seconds() * 1000 : 0);
  absl::Status s = store_->Write([&](Db& db) -> absl::Status {
    return db.Run(
        "INSERT INTO tokens (id, secret_hash, kind, scopes, device_class, description, created_ms, "
        "expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        out.token_id(), HashSecret(*secret), r.kind(), absl::StrJoin(scopes, ","), r.device_class(),
        r.description(), now, out.expires_at_ms());
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<v1::TokenInfo>> Authenticator::ListTokens() {
  std::vector<v1::TokenInfo> out;
  absl::Status s = store_->Read([&](Db& db) -> absl::Status {
    return db.ForEachRow(
        "SELECT id, kind, scopes, device_class, created_ms, expires_ms, revoked, used, description "
        "FROM tokens ORDER BY created_ms",
        [&](const Stmt& st) {
          v1::TokenInfo t;
          t.set_token_id(st.Text(0));
          t.set_kind(static_cast<v1::CreateTokenRequest::Kind>(st.Int(1)));
          for (absl::string_view sc : absl::StrSplit(st.Text(2), ',', absl::SkipEmpty()))
            t.add_scopes(std::string(sc));
          t.set_device_class(st.Text(3));
          t.set_created_at_ms(st.Int(4));
          t.set_expires_at_ms(st.Int(5));
          t.set_revoked(st.Int(6) != 0);
          t.set_used(st.Int(7) != 0);
          t.set_description(st.Text(8));
          out.push_back(std::move(t));
          return absl::OkStatus();
        });
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status Authenticator::RevokeToken(const std::string& token_id) {
  absl::Status s = store_->Write([&](Db& db) -> absl::Status {
    if (absl::Status r = db.Run("UPDATE tokens SET revoked = 1 WHERE id = ?", token_id); !r.ok())
      return r;
    if (db.Changes() == 0)
      return absl::NotFoundError(absl::StrCat("token_id: no token '", token_id.substr(0, 64), "'"));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  ++revocations_;
  for (auto it = cache_.begin(); it != cache_.end();)
    it = it->second.id == token_id ? cache_.erase(it) : std::next(it);
  return absl::OkStatus();
}

absl::StatusOr<v1::EnrollResponse> Authenticator::Enroll(const v1::EnrollRequest& r) {
  if (r.enroll_token().empty() || r.enroll_token().size() > 512) return Unauthenticated();
  if (r.role() != v1::WORKER_ROLE_LATENCY && r.role() != v1::WORKER_ROLE_TRAINER)
    return absl::InvalidArgumentError("role: must be WORKER_ROLE_LATENCY or WORKER_ROLE_TRAINER");
  const std::string token_hash = HashSecret(r.enroll_token());
  absl::StatusOr<std::string> credential = GenerateSecret(kWorkerCredentialPrefix);
  if (!credential.ok()) return credential.status();
  v1::EnrollResponse out;
  out.set_worker_id(NewId("wkr"));
  out.set_credential(*credential);
  const int64_t now = clock_();
  absl::Status s = store_->Write([&](Db& db) -> absl::Status {
    // Spent in the same transaction that creates the worker: once, and only once.
    absl::StatusOr<Stmt> st = db.Query(
        "SELECT id, device_class, expires_ms, used, revoked FROM tokens WHERE secret_hash = ? AND "
        "kind = ?",
        token_hash, kEnrollment);
    if (!st.ok()) return st.status();
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row || st->Int(4) != 0) return Unauthenticated();
    if (st->Int(3) != 0) return absl::UnauthenticatedError("enroll_token: already used");
    if (st->Int(2) != 0 && st->Int(2) <= now) return absl::UnauthenticatedError("enroll_token: expired");
    const std::string token_id = st->Text(0), device_class = st->Text(1);
    if (!r.device_class().empty() && r.device_class() != device_class)
      return absl::PermissionDeniedError(absl::StrCat(
          "device_class: the token was made for '", device_class, "', not '",
          r.device_class().substr(0, 64), "'"));
    if (absl::Status u = db.Run("UPDATE tokens SET used = 1 WHERE id = ? AND used = 0", token_id);
        !u.ok())
      return u;
    return db.Run(
        "INSERT INTO workers (id, credential_hash, device_class, role, fingerprint, enrolled_ms, "
        "last_seen_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
        out.worker_id(), HashSecret(*credential), device_class, r.role(),
        Blob{r.fingerprint().SerializeAsString()}, now, now);
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<v1::WorkerInfo>> Authenticator::ListWorkers(int64_t stale_after_ms) {
  FlushSeen();
  std::vector<v1::WorkerInfo> out;
  const int64_t now = clock_();
  absl::Status s = store_->Read([&](Db& db) -> absl::Status {
    return db.ForEachRow(
        "SELECT id, device_class, role, fingerprint, enrolled_ms, last_seen_ms, tasks_done, "
        "revoked, flagged FROM workers ORDER BY enrolled_ms",
        [&](const Stmt& st) {
          v1::WorkerInfo w;
          w.set_worker_id(st.Text(0));
          w.set_device_class(st.Text(1));
          w.set_role(static_cast<v1::WorkerRole>(st.Int(2)));
          w.mutable_fingerprint()->ParseFromString(st.Blob(3));
          w.set_enrolled_at_ms(st.Int(4));
          w.set_last_seen_ms(st.Int(5));
          w.set_tasks_done(st.Int(6));
          w.set_revoked(st.Int(7) != 0);
          const std::string flagged = st.Text(8);
          w.set_health(w.revoked()                                 ? "revoked"
                       : !flagged.empty()                          ? "flagged: " + flagged
                       : now - w.last_seen_ms() > stale_after_ms ? "stale"
                                                                   : "ok");
          out.push_back(std::move(w));
          return absl::OkStatus();
        });
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status Authenticator::RevokeWorker(const std::string& worker_id) {
  absl::Status s = store_->Write([&](Db& db) -> absl::Status {
    if (absl::Status r = db.Run("UPDATE workers SET revoked = 1 WHERE id = ?", worker_id); !r.ok())
      return r;
    if (db.Changes() == 0)
      return absl::NotFoundError(absl::StrCat("worker_id: no worker '", worker_id.substr(0, 64), "'"));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  ++revocations_;
  for (auto it = cache_.begin(); it != cache_.end();)
    it = it->second.id == worker_id ? cache_.erase(it) : std::next(it);
  return absl::OkStatus();
}

void Authenticator::Seen(const std::string& worker_id, const v1::Fingerprint* /*fingerprint*/) {
  std::lock_guard<std::mutex> lock(mu_);
  last_seen_[worker_id] = clock_();
}

void Authenticator::FlushSeen() {
  std::map<std::string, int64_t> seen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seen.swap(last_seen_);
  }
  if (seen.empty()) return;
  store_->WriteAsync(
      [seen](Db& db) -> absl::Status {
        for (const auto& [id, ms] : seen) {
          if (absl::Status s = db.Run("UPDATE workers SET last_seen_ms = ? WHERE id = ?", ms, id);
              !s.ok())
            return s;
        }
        return absl::OkStatus();
      },
      nullptr);
}

}  // namespace edgenas
