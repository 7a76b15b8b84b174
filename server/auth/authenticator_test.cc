#include "server/auth/authenticator.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/auth/token.h"
#include "server/testing/after_read_hook.h"

namespace edgenas {
namespace {

constexpr auto kClient = v1::CreateTokenRequest::KIND_CLIENT;
constexpr auto kEnrollment = v1::CreateTokenRequest::KIND_ENROLLMENT;
constexpr auto kUnauthenticated = absl::StatusCode::kUnauthenticated;

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/authenticator_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    Reopen();
  }
  void TearDown() override {
    auth_.reset();
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path() + suffix).c_str());
    rmdir(dir_.c_str());
  }
  std::string path() const { return dir_ + "/edgenas.db"; }

  // A new store and authenticator on the same file: nothing cached.
  void Reopen() {
    auth_.reset();
    store_.reset();
    absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(path());
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
    auth_ = std::make_unique<Authenticator>(store_.get(), [this] { return now_.load(); });
  }

  v1::CreateTokenResponse MustCreate(v1::CreateTokenRequest::Kind kind, std::vector<std::string> scopes,
                                     const std::string& device_class, int64_t ttl_seconds) {
    v1::CreateTokenRequest r;
    r.set_kind(kind);
    for (const std::string& s : scopes) r.add_scopes(s);
    r.set_device_class(device_class);
    r.set_ttl_seconds(ttl_seconds);
    r.set_description("made by a test");
    absl::StatusOr<v1::CreateTokenResponse> out = auth_->CreateToken(r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : v1::CreateTokenResponse();
  }

  absl::StatusOr<v1::EnrollResponse> Enroll(const std::string& token, const std::string& device_class,
                                            v1::WorkerRole role = v1::WORKER_ROLE_LATENCY) {
    v1::EnrollRequest r;
    r.set_enroll_token(token);
    r.set_device_class(device_class);
    r.set_role(role);
    r.mutable_fingerprint()->set_cpu_model("Cortex-A72");
    r.mutable_fingerprint()->set_cores(4);
    return auth_->Enroll(r);
  }

  absl::StatusCode Code(const std::string& secret) { return auth_->Authenticate(secret).status().code(); }

  std::string dir_;
  std::atomic<int64_t> now_{1'700'000'000'000};
  std::unique_ptr<Store> store_;
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(AuthenticatorTest, BootstrapCreatesOneAdminTokenOnce) {
  absl::StatusOr<std::string> admin = auth_->BootstrapAdminToken();
  ASSERT_TRUE(admin.ok()) << admin.status();
  ASSERT_FALSE(admin->empty());
  EXPECT_EQ(admin->rfind(kClientTokenPrefix, 0), 0u) << *admin;

  absl::StatusOr<Principal> p = auth_->Authenticate("Bearer " + *admin);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->kind, Principal::Kind::kClient);
  EXPECT_TRUE(p->HasScope("admin"));
  EXPECT_TRUE(p->HasScope("search"));
  EXPECT_EQ(p->expires_ms, 0);

  absl::StatusOr<std::string> again = auth_->BootstrapAdminToken();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, "");
  Reopen();  // a restart does not make a second one either
  again = auth_->BootstrapAdminToken();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, "");
  absl::StatusOr<std::vector<v1::TokenInfo>> tokens = auth_->ListTokens();
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ((*tokens)[0].token_id(), p->id);
  EXPECT_EQ((*tokens)[0].kind(), kClient);
  EXPECT_EQ(std::set<std::string>((*tokens)[0].scopes().begin(), (*tokens)[0].scopes().end()),
            (std::set<std::string>{"admin", "search"}));
  // And the first secret still works after the restart.
  EXPECT_TRUE(auth_->Authenticate(*admin).ok());
}

TEST_F(AuthenticatorTest, ClientTokensCarryTheirScopes) {
  v1::CreateTokenResponse search = MustCreate(kClient, {"search"}, "", 0);
  v1::CreateTokenResponse admin = MustCreate(kClient, {"admin"}, "", 0);
  v1::CreateTokenResponse both = MustCreate(kClient, {"search", "admin"}, "", 0);
  EXPECT_EQ(search.expires_at_ms(), 0);
  EXPECT_NE(search.token(), admin.token());

  for (const std::string& how : {std::string("Bearer "), std::string()}) {
    absl::StatusOr<Principal> p = auth_->Authenticate(how + search.token());
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->kind, Principal::Kind::kClient);
    EXPECT_EQ(p->id, search.token_id());
    EXPECT_EQ(p->scopes, std::vector<std::string>{"search"});
    EXPECT_TRUE(p->HasScope("search"));
    EXPECT_FALSE(p->HasScope("admin"));
  }
  absl::StatusOr<Principal> a = auth_->Authenticate(admin.token());
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->HasScope("admin"));
  EXPECT_FALSE(a->HasScope("search"));
  absl::StatusOr<Principal> b = auth_->Authenticate(both.token());
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->HasScope("admin") && b->HasScope("search"));
  // From the store, not the cache, the same.
  Reopen();
  a = auth_->Authenticate(admin.token());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->scopes, std::vector<std::string>{"admin"});

  // Nothing else authenticates.
  EXPECT_EQ(Code(""), kUnauthenticated);
  EXPECT_EQ(Code("Bearer "), kUnauthenticated);
  EXPECT_EQ(Code(search.token() + "0"), kUnauthenticated);
  EXPECT_EQ(Code(search.token().substr(1)), kUnauthenticated);
  EXPECT_EQ(Code(search.token_id()), kUnauthenticated);
  EXPECT_EQ(Code(HashSecret(search.token())), kUnauthenticated);
  EXPECT_EQ(Code(std::string(600, 'a')), kUnauthenticated);

  v1::CreateTokenRequest bad;
  bad.set_kind(kClient);
  EXPECT_EQ(auth_->CreateToken(bad).status().code(), absl::StatusCode::kInvalidArgument);  // no scope
  bad.add_scopes("root");
  EXPECT_EQ(auth_->CreateToken(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthenticatorTest, AnExpiredClientTokenIsRefused) {
  v1::CreateTokenResponse t = MustCreate(kClient, {"search"}, "", 60);
  EXPECT_EQ(t.expires_at_ms(), now_.load() + 60000);
  now_ += 59999;
  ASSERT_TRUE(auth_->Authenticate(t.token()).ok());  // now cached
  now_ += 1;
  EXPECT_EQ(Code(t.token()), kUnauthenticated);  // from the cache
  Reopen();
  EXPECT_EQ(Code(t.token()), kUnauthenticated);  // from the store
  now_ -= 1;
  EXPECT_TRUE(auth_->Authenticate(t.token()).ok());
}

TEST_F(AuthenticatorTest, ARevokedTokenIsRefusedEvenAfterItWasCached) {
  v1::CreateTokenResponse t = MustCreate(kClient, {"search", "admin"}, "", 0);
  v1::CreateTokenResponse other = MustCreate(kClient, {"search"}, "", 0);
  ASSERT_TRUE(auth_->Authenticate(t.token()).ok());
  ASSERT_TRUE(auth_->Authenticate(other.token()).ok());
  ASSERT_TRUE(auth_->RevokeToken(t.token_id()).ok());
  EXPECT_EQ(Code(t.token()), kUnauthenticated);
  EXPECT_EQ(Code("Bearer " + t.token()), kUnauthenticated);
  EXPECT_TRUE(auth_->Authenticate(other.token()).ok());
  EXPECT_EQ(auth_->RevokeToken("tok-nosuch").code(), absl::StatusCode::kNotFound);
  Reopen();
  EXPECT_EQ(Code(t.token()), kUnauthenticated);
  EXPECT_TRUE(auth_->Authenticate(other.token()).ok());
  absl::StatusOr<std::vector<v1::TokenInfo>> tokens = auth_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  for (const v1::TokenInfo& info : *tokens) EXPECT_EQ(info.revoked(), info.token_id() == t.token_id());
}

TEST_F(AuthenticatorTest, AnEnrollmentTokenWorksOnceForItsDeviceClass) {
  v1::CreateTokenResponse enr = MustCreate(kEnrollment, {}, "rpi4", 600);
  EXPECT_EQ(enr.token().rfind(kEnrollmentTokenPrefix, 0), 0u);
  // It is not a client token.
  EXPECT_EQ(Code(enr.token()), kUnauthenticated);

  // The wrong device class is refused and does not spend the token.
  absl::StatusOr<v1::EnrollResponse> wrong = Enroll(enr.token(), "jetson");
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(wrong.status().message().find("rpi4"), absl::string_view::npos) << wrong.status();

  absl::StatusOr<v1::EnrollResponse> worker = Enroll(enr.token(), "rpi4");
  ASSERT_TRUE(worker.ok()) << worker.status();
  EXPECT_EQ(worker->credential().rfind(kWorkerCredentialPrefix, 0), 0u);
  absl::StatusOr<v1::EnrollResponse> reused = Enroll(enr.token(), "rpi4");
  EXPECT_EQ(reused.status().code(), kUnauthenticated);
  Reopen();
  EXPECT_EQ(Enroll(enr.token(), "rpi4").status().code(), kUnauthenticated);

  absl::StatusOr<std::vector<v1::WorkerInfo>> workers = auth_->ListWorkers(60000);
  ASSERT_TRUE(workers.ok()) << workers.status();
  ASSERT_EQ(workers->size(), 1u);
  EXPECT_EQ((*workers)[0].worker_id(), worker->worker_id());
  EXPECT_EQ((*workers)[0].device_class(), "rpi4");
  EXPECT_EQ((*workers)[0].role(), v1::WORKER_ROLE_LATENCY);
  EXPECT_EQ((*workers)[0].fingerprint().cpu_model(), "Cortex-A72");
  absl::StatusOr<std::vector<v1::TokenInfo>> tokens = auth_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_TRUE((*tokens)[0].used());

  // A request that names no class takes the token's.
  v1::CreateTokenResponse any = MustCreate(kEnrollment, {}, "jetson-nano", 600);
  absl::StatusOr<v1::EnrollResponse> trainer = Enroll(any.token(), "", v1::WORKER_ROLE_TRAINER);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  absl::StatusOr<Principal> p = auth_->Authenticate(trainer->credential());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->device_class, "jetson-nano");
  EXPECT_EQ(p->role, v1::WORKER_ROLE_TRAINER);
}

TEST_F(AuthenticatorTest, ExpiredUnknownRevokedAndClientTokensDoNotEnroll) {
  v1::CreateTokenResponse enr = MustCreate(kEnrollment, {}, "rpi4", 60);
  now_ += 60000;
  absl::StatusOr<v1::EnrollResponse> late = Enroll(enr.token(), "rpi4");
  EXPECT_EQ(late.status().code(), kUnauthenticated);
  EXPECT_NE(late.status().message().find("expired"), absl::string_view::npos) << late.status();
  now_ -= 1;  // a millisecond earlier it would still have been good
  EXPECT_TRUE(Enroll(enr.token(), "rpi4").ok());

  EXPECT_EQ(Enroll("enr_" + std::string(64, '0'), "rpi4").status().code(), kUnauthenticated);
  EXPECT_EQ(Enroll("", "rpi4").status().code(), kUnauthenticated);
  v1::CreateTokenResponse revoked = MustCreate(kEnrollment, {}, "rpi4", 600);
  ASSERT_TRUE(auth_->RevokeToken(revoked.token_id()).ok());
  EXPECT_EQ(Enroll(revoked.token(), "rpi4").status().code(), kUnauthenticated);
  v1::CreateTokenResponse client = MustCreate(kClient, {"admin"}, "", 0);
  EXPECT_EQ(Enroll(client.token(), "rpi4").status().code(), kUnauthenticated);

  absl::StatusOr<std::vector<v1::WorkerInfo>> workers = auth_->ListWorkers(60000);
  ASSERT_TRUE(workers.ok());
  EXPECT_EQ(workers->size(), 1u);

  // Enrollment tokens must expire and name a valid class.
  v1::CreateTokenRequest r;
  r.set_kind(kEnrollment);
  r.set_device_class("rpi4");
  EXPECT_EQ(auth_->CreateToken(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.set_ttl_seconds(60);
  r.set_device_class("Rpi 4");
  EXPECT_EQ(auth_->CreateToken(r).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthenticatorTest, ConcurrentEnrollmentsSpendATokenOnce) {
  v1::CreateTokenResponse enr = MustCreate(kEnrollment, {}, "rpi4", 600);
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      absl::StatusOr<v1::EnrollResponse> w = Enroll(enr.token(), "rpi4");
      if (w.ok()) {
        ++ok;
      } else if (w.status().code() == kUnauthenticated) {
        ++refused;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), 7);
  absl::StatusOr<std::vector<v1::WorkerInfo>> workers = auth_->ListWorkers(60000);
  ASSERT_TRUE(workers.ok());
  EXPECT_EQ(workers->size(), 1u);
}

TEST_F(AuthenticatorTest, AWorkerCredentialAuthenticatesUntilRevoked) {
  v1::CreateTokenResponse e1 = MustCreate(kEnrollment, {}, "rpi4", 600);
  v1::CreateTokenResponse e2 = MustCreate(kEnrollment, {}, "rpi4", 600);
  absl::StatusOr<v1::EnrollResponse> w1 = Enroll(e1.token(), "rpi4");
  absl::StatusOr<v1::EnrollResponse> w2 = Enroll(e2.token(), "rpi4");
  ASSERT_TRUE(w1.ok() && w2.ok());
  EXPECT_NE(w1->worker_id(), w2->worker_id());
  EXPECT_NE(w1->credential(), w2->credential());

  absl::StatusOr<Principal> p = auth_->Authenticate("Bearer " + w1->credential());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->kind, Principal::Kind::kWorker);
  EXPECT_EQ(p->id, w1->worker_id());
  EXPECT_EQ(p->device_class, "rpi4");
  EXPECT_EQ(p->role, v1::WORKER_ROLE_LATENCY);
  EXPECT_TRUE(p->scopes.empty());
  ASSERT_TRUE(auth_->Authenticate(w2->credential()).ok());

  ASSERT_TRUE(auth_->RevokeWorker(w1->worker_id()).ok());
  EXPECT_EQ(Code(w1->credential()), kUnauthenticated);
  absl::StatusOr<Principal> still = auth_->Authenticate(w2->credential());
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->id, w2->worker_id());
  EXPECT_EQ(auth_->RevokeWorker("wkr-nosuch").code(), absl::StatusCode::kNotFound);
  Reopen();
  EXPECT_EQ(Code(w1->credential()), kUnauthenticated);
  EXPECT_TRUE(auth_->Authenticate(w2->credential()).ok());

  // Health as the operator sees it.
  auth_->Seen(w2->worker_id(), nullptr);
  now_ += 30000;
  absl::StatusOr<std::vector<v1::WorkerInfo>> workers = auth_->ListWorkers(60000);
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->size(), 2u);
  for (const v1::WorkerInfo& w : *workers)
    EXPECT_EQ(w.health(), w.worker_id() == w1->worker_id() ? "revoked" : "ok") << w.worker_id();
  now_ += 30001;
  workers = auth_->ListWorkers(60000);
  ASSERT_TRUE(workers.ok());
  for (const v1::WorkerInfo& w : *workers)
    EXPECT_EQ(w.health(), w.worker_id() == w1->worker_id() ? "revoked" : "stale") << w.worker_id();
}

// Every value of every column of `table`, as text (blobs as their bytes).
std::vector<std::string> AllValues(sqlite3* db, const std::string& table) {
  std::vector<std::string> out;
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, ("SELECT * FROM " + table).c_str(), -1, &st, nullptr), SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      const void* p = sqlite3_column_blob(st, c);
      out.emplace_back(p ? static_cast<const char*>(p) : "", sqlite3_column_bytes(st, c));
    }
  }
  sqlite3_finalize(st);
  return out;
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST_F(AuthenticatorTest, TheDatabaseHoldsNoSecretInClearText) {
  std::vector<std::string> secrets;
  absl::StatusOr<std::string> admin = auth_->BootstrapAdminToken();
  ASSERT_TRUE(admin.ok() && !admin->empty());
  secrets.push_back(*admin);
  secrets.push_back(MustCreate(kClient, {"search"}, "", 3600).token());
  secrets.push_back(MustCreate(kEnrollment, {}, "rpi4", 600).token());  // never used
  v1::CreateTokenResponse enr = MustCreate(kEnrollment, {}, "rpi4", 600);
  secrets.push_back(enr.token());
  absl::StatusOr<v1::EnrollResponse> worker = Enroll(enr.token(), "rpi4");
  ASSERT_TRUE(worker.ok());
  secrets.push_back(worker->credential());
  for (size_t i : {0, 1, 4}) ASSERT_TRUE(auth_->Authenticate(secrets[i]).ok()) << i;
  store_.reset();  // everything committed and closed

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::vector<std::string> values = AllValues(db, "tokens");
  std::vector<std::string> worker_values = AllValues(db, "workers");
  sqlite3_close(db);
  values.insert(values.end(), worker_values.begin(), worker_values.end());
  ASSERT_GE(values.size(), 4u * 10 + 10);  // four token rows, one worker row

  std::set<std::string> stored(values.begin(), values.end());
  for (const std::string& secret : secrets) {
    // The hex body without its prefix is the secret just as much.
    const std::string body = secret.substr(secret.find('_') + 1);
    ASSERT_GE(body.size(), 32u);
    for (const std::string& v : values) {
      EXPECT_EQ(v.find(body.substr(0, 16)), std::string::npos) << "a secret is stored: " << v;
      EXPECT_EQ(v.find(body.substr(body.size() - 16)), std::string::npos) << "a secret is stored: " << v;
    }
    // What is kept instead: its SHA-256, which the search above would have
    // found had it been the secret.
    EXPECT_EQ(stored.count(HashSecret(secret)), 1u) << secret.substr(0, 4);
    for (const std::string& file : {path(), path() + "-wal"}) {
      EXPECT_EQ(FileBytes(file).find(body), std::string::npos) << file;
    }
  }
}

using testing::AfterReadHook;

// A revocation that commits while a lookup of the same secret is between its
// read and its cache insert must still win.
TEST_F(AuthenticatorTest, ARevocationRacingALookupIsNotUndoneByTheCache) {
  v1::CreateTokenResponse t = MustCreate(kClient, {"admin"}, "", 0);
  v1::CreateTokenResponse enr = MustCreate(kEnrollment, {}, "rpi4", 600);
  absl::StatusOr<v1::EnrollResponse> w = Enroll(enr.token(), "rpi4");
  ASSERT_TRUE(w.ok());
  Reopen();  // no read connection yet, so the hook sees the next one open
  {
    AfterReadHook hook("FROM tokens WHERE secret_hash", [&] { ASSERT_TRUE(auth_->RevokeToken(t.token_id()).ok()); });
    auth_->Authenticate(t.token()).IgnoreError();  // either answer is fine for this call
    ASSERT_TRUE(AfterReadHook::fired());
  }
  EXPECT_EQ(Code(t.token()), kUnauthenticated);

  Reopen();
  {
    AfterReadHook hook("FROM workers WHERE credential_hash",
                       [&] { ASSERT_TRUE(auth_->RevokeWorker(w->worker_id()).ok()); });
    auth_->Authenticate(w->credential()).IgnoreError();
    ASSERT_TRUE(AfterReadHook::fired());
  }
  EXPECT_EQ(Code(w->credential()), kUnauthenticated);
}

}  // namespace
}  // namespace edgenas
