#include "server/store/store.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace edgenas {
namespace {

// A fresh directory per test, so a database never meets another test's file.
class TempDb {
 public:
  TempDb() {
    std::string tmpl = ::testing::TempDir() + "/store_test_XXXXXX";
    char* dir = mkdtemp(tmpl.data());
    EXPECT_NE(dir, nullptr);
    dir_ = tmpl;
  }
  ~TempDb() {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::remove((path() + suffix).c_str());
    rmdir(dir_.c_str());
  }
  std::string path() const { return dir_ + "/edgenas.db"; }

 private:
  std::string dir_;
};

std::unique_ptr<Store> OpenOrDie(const std::string& path) {
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(path);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

// A connection that is not the Store's: what another process would see.
class RawDb {
 public:
  explicit RawDb(const std::string& path, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, flags, nullptr), SQLITE_OK);
    sqlite3_busy_timeout(db_, 10000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << (err ? err : "") << " in " << sql;
    sqlite3_free(err);
  }
  // The first column of every row, as text.
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_) << " in " << sql;
    if (!st) return out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(st, 0);
      out.push_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    sqlite3_finalize(st);
    return out;
  }
  std::string One(const std::string& sql) {
    std::vector<std::string> rows = Column(sql);
    return rows.empty() ? "<no row>" : rows[0];
  }

 private:
  sqlite3* db_ = nullptr;
};

absl::Status CreateKv(Store& store) {
  return store.Write([](Db& db) { return db.Exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)"); });
}

absl::Status PutKv(Db& db, const std::string& k, const std::string& v) {
  absl::StatusOr<Stmt> st = db.Prepare("INSERT INTO kv (k, v) VALUES (?, ?)");
  if (!st.ok()) return st.status();
  st->Bind(1, k).Bind(2, v);
  return st->Run();
}

std::map<std::string, std::string> ReadKv(Store& store) {
  std::map<std::string, std::string> out;
  absl::Status s = store.Read([&](Db& db) {
    absl::StatusOr<Stmt> st = db.Prepare("SELECT k, v FROM kv");
    if (!st.ok()) return st.status();
    for (;;) {
      absl::StatusOr<bool> row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) return absl::OkStatus();
      out[st->Text(0)] = st->Text(1);
    }
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST(StoreTest, AcknowledgedWritesAreCommittedAndSurviveReopen) {
  TempDb tmp;
  std::map<std::string, std::string> want;
  // Whether another connection could see the row when its write was acknowledged.
  std::mutex mu;
  std::map<std::string, std::string> seen_at_ack;
  {
    std::unique_ptr<Store> store = OpenOrDie(tmp.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(CreateKv(*store).ok());
    RawDb observer(tmp.path(), SQLITE_OPEN_READONLY);
    for (int i = 0; i < 20; ++i) {
      const std::string k = absl::StrCat("sync-", i), v = absl::StrCat("value ", i * 7);
      ASSERT_TRUE(store->Write([&](Db& db) { return PutKv(db, k, v); }).ok());
      want[k] = v;
      EXPECT_EQ(observer.One(absl::StrCat("SELECT v FROM kv WHERE k = '", k, "'")), v);
    }
    // Queued without waiting, then the store is closed at once: the
    // destructor must finish them, and each is acknowledged only after a
    // COMMIT that an independent connection can see.
    std::atomic<int> acked{0};
    for (int i = 0; i < 100; ++i) {
      const std::string k = absl::StrCat("async-", i), v = absl::StrCat("value ", i * 13);
      want[k] = v;
      store->WriteAsync([k, v](Db& db) { return PutKv(db, k, v); },
                        [&, k](absl::Status s) {
                          EXPECT_TRUE(s.ok()) << s;
                          RawDb other(tmp.path(), SQLITE_OPEN_READONLY);
                          std::lock_guard<std::mutex> lock(mu);
                          seen_at_ack[k] = other.One(absl::StrCat("SELECT v FROM kv WHERE k = '", k, "'"));
                          ++acked;
                        });
    }
    store.reset();
    EXPECT_EQ(acked.load(), 100);
  }
  for (int i = 0; i < 100; ++i) {
    const std::string k = absl::StrCat("async-", i);
    EXPECT_EQ(seen_at_ack[k], want[k]) << k << " was acknowledged before it was committed";
  }
  std::unique_ptr<Store> reopened = OpenOrDie(tmp.path());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(ReadKv(*reopened), want);
  absl::StatusOr<std::string> check = reopened->IntegrityCheck();
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(*check, "ok");
}

// A process killed in the middle of a stream of writes: everything it was
// told is committed is in the file, and the file is sound.
TEST(StoreTest, AcknowledgedWritesSurviveAKilledProcess) {
  TempDb tmp;
  {
    std::unique_ptr<Store> store = OpenOrDie(tmp.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(CreateKv(*store).ok());
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(tmp.path());
    if (!store.ok()) _exit(2);
    for (int i = 0; i < 100000; ++i) {
      const std::string k = absl::StrCat("k", i);
      if (!(*store)->Write([&](Db& db) { return PutKv(db, k, "v"); }).ok()) _exit(3);
      const std::string line = k + "\n";
      if (write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
    }
    _exit(0);
  }
  close(fds[1]);
  // Read acknowledgements until 60 have arrived, then kill the writer mid-stream.
  std::set<std::string> acked;
  std::string buf;
  char chunk[256];
  while (acked.size() < 60) {
    ssize_t n = read(fds[0], chunk, sizeof chunk);
    ASSERT_GT(n, 0) << "the child stopped early";
    buf.append(chunk, n);
    for (size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1))
      acked.insert(buf.substr(0, nl));
  }
  kill(child, SIGKILL);
  for (ssize_t n; (n = read(fds[0], chunk, sizeof chunk)) > 0;) {
    buf.append(chunk, n);
    for (size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1))
      acked.insert(buf.substr(0, nl));
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child was meant to be killed, not to finish";

  std::unique_ptr<Store> reopened = OpenOrDie(tmp.path());
  ASSERT_NE(reopened, nullptr);
  std::map<std::string, std::string> have = ReadKv(*reopened);
  for (const std::string& k : acked) EXPECT_EQ(have.count(k), 1u) << k << " was acknowledged but lost";
  EXPECT_GE(have.size(), acked.size());
  absl::StatusOr<std::string> check = reopened->IntegrityCheck();
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(*check, "ok");
}

// Writes from several threads, held back until they all wait in the queue,
// so they share transactions. Every fourth fails: by a constraint, or by
// returning an error after it has written. Exactly the others survive.
TEST(StoreTest, AFailingWriteInABatchLeavesTheOthersCommitted) {
  TempDb tmp;
  constexpr int kThreads = 4, kPerThread = 150;
  std::map<std::string, std::string> want;
  std::set<std::string> must_be_absent;
  std::mutex mu;
  std::map<std::string, absl::Status> results;
  {
    std::unique_ptr<Store> store = OpenOrDie(tmp.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(CreateKv(*store).ok());
    ASSERT_TRUE(store->Write([](Db& db) { return PutKv(db, "taken", "first"); }).ok());
    want["taken"] = "first";

    // Hold the writer thread until every write is queued.
    std::mutex gate_mu;
    std::condition_variable gate_cv;
    bool open = false;
    std::atomic<bool> gate_ran{false};
    store->WriteAsync(
        [&](Db&) {
          gate_ran = true;
          std::unique_lock<std::mutex> lock(gate_mu);
          gate_cv.wait(lock, [&] { return open; });
          return absl::OkStatus();
        },
        nullptr);
    while (!gate_ran) std::this_thread::yield();

    std::atomic<int> pending{kThreads * kPerThread};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string k = absl::StrCat("t", t, "-", i);
        if (i % 4 == 1 || i % 4 == 3) {
          must_be_absent.insert(k);
        } else {
          want[k] = absl::StrCat(t * 1000 + i);
        }
      }
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const std::string k = absl::StrCat("t", t, "-", i), v = absl::StrCat(t * 1000 + i);
          Store::WriteFn fn;
          if (i % 4 == 1) {
            // Writes its own row, then collides with an existing key.
            fn = [k, v](Db& db) -> absl::Status {
              if (absl::Status s = PutKv(db, k, v); !s.ok()) return s;
              return PutKv(db, "taken", "second");
            };
          } else if (i % 4 == 3) {
            fn = [k, v](Db& db) -> absl::Status {
              if (absl::Status s = PutKv(db, k, v); !s.ok()) return s;
              return absl::FailedPreconditionError("refused after writing " + k);
            };
          } else {
            fn = [k, v](Db& db) { return PutKv(db, k, v); };
          }
          store->WriteAsync(std::move(fn), [&, k](absl::Status s) {
            std::lock_guard<std::mutex> lock(mu);
            results[k] = s;
            --pending;
          });
        }
      });
    }
    for (std::thread& th : threads) th.join();
    {
      std::lock_guard<std::mutex> lock(gate_mu);
      open = true;
    }
    gate_cv.notify_all();
    while (pending > 0) std::this_thread::yield();
  }
  ASSERT_EQ(results.size(), size_t{kThreads * kPerThread});
  for (const auto& [k, s] : results) {
    if (must_be_absent.count(k)) {
      const int i = std::stoi(k.substr(k.find('-') + 1));
      EXPECT_EQ(s.code(), i % 4 == 1 ? absl::StatusCode::kAlreadyExists
                                     : absl::StatusCode::kFailedPrecondition)
          << k << ": " << s;
    } else {
      EXPECT_TRUE(s.ok()) << k << ": " << s;
    }
  }
  std::unique_ptr<Store> reopened = OpenOrDie(tmp.path());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(ReadKv(*reopened), want);
}

// SQLITE_FULL (a full disk) rolls back the whole transaction, not just the
// failing statement. The writes around it in the same batch must then be
// told the truth: acknowledged exactly when they are in the file.
TEST(StoreTest, AWriteThatKillsTheTransactionDoesNotMisreportItsNeighbours) {
  TempDb tmp;
  std::map<std::string, absl::Status> results;
  std::mutex mu;
  {
    std::unique_ptr<Store> store = OpenOrDie(tmp.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(CreateKv(*store).ok());
    ASSERT_TRUE(store->Write([](Db& db) { return PutKv(db, "before", "1"); }).ok());
    std::mutex gate_mu;
    std::condition_variable gate_cv;
    bool open = false;
    std::atomic<bool> gate_ran{false};
    store->WriteAsync(
        [&](Db&) {
          gate_ran = true;
          std::unique_lock<std::mutex> lock(gate_mu);
          gate_cv.wait(lock, [&] { return open; });
          return absl::OkStatus();
        },
        nullptr);
    while (!gate_ran) std::this_thread::yield();
    auto record = [&](const std::string& k) {
      return [&, k](absl::Status s) {
        std::lock_guard<std::mutex> lock(mu);
        results[k] = s;
      };
    };
    store->WriteAsync([](Db& db) { return PutKv(db, "a", "1"); }, record("a"));
    store->WriteAsync(
        [](Db& db) -> absl::Status {
          // No room for another page: the blob fails with SQLITE_FULL.
          if (absl::Status s = db.Exec("PRAGMA max_page_count = 1"); !s.ok()) return s;
          absl::Status s = PutKv(db, "full", std::string(200000, 'x'));
          db.Exec("PRAGMA max_page_count = 1073741823").IgnoreError();
          return s;
        },
        record("full"));
    store->WriteAsync([](Db& db) { return PutKv(db, "c", "1"); }, record("c"));
    store->WriteAsync([](Db& db) { return PutKv(db, "d", "1"); }, record("d"));
    {
      std::lock_guard<std::mutex> lock(gate_mu);
      open = true;
    }
    gate_cv.notify_all();
    ASSERT_TRUE(store->Write([](Db& db) { return PutKv(db, "after", "1"); }).ok());
  }
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results["full"].code(), absl::StatusCode::kResourceExhausted) << results["full"];
  // Later writes of the batch run in a fresh transaction and succeed.
  EXPECT_TRUE(results["c"].ok()) << results["c"];
  EXPECT_TRUE(results["d"].ok()) << results["d"];
  std::unique_ptr<Store> reopened = OpenOrDie(tmp.path());
  ASSERT_NE(reopened, nullptr);
  std::map<std::string, std::string> have = ReadKv(*reopened);
  EXPECT_EQ(have.count("full"), 0u);
  EXPECT_EQ(have.count("before"), 1u);
  EXPECT_EQ(have.count("after"), 1u);
  for (const char* k : {"a", "c", "d"})
    EXPECT_EQ(results[k].ok(), have.count(k) == 1) << k << ": told " << results[k];
}

TEST(StoreTest, FreshDatabaseReachesTheCurrentSchema) {
  TempDb tmp;
  ASSERT_GE(Store::CurrentSchemaVersion(), 1);
  {
    std::unique_ptr<Store> store = OpenOrDie(tmp.path());
    ASSERT_NE(store, nullptr);
    absl::StatusOr<int> v = store->SchemaVersion();
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(*v, Store::CurrentSchemaVersion());
    ASSERT_TRUE(store->Write([](Db& db) {
                       return db.Exec("INSERT INTO workers (id, credential_hash, device_class, role, "
                                      "fingerprint, enrolled_ms, last_seen_ms) "
                                      "VALUES ('w1', 'h', 'rpi4', 1, x'', 1, 1)");
                     }).ok());
  }
  RawDb raw(tmp.path());
  EXPECT_EQ(raw.One("PRAGMA user_version"), absl::StrCat(Store::CurrentSchemaVersion()));
  std::vector<std::string> tables = raw.Column("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  for (const char* t : {"candidates", "jobs", "measurements", "models", "tasks", "tokens", "train_results",
                        "trials", "workers"})
    EXPECT_NE(std::find(tables.begin(), tables.end(), t), tables.end()) << t;

  // Opening again neither re-runs a migration nor loses data.
  std::unique_ptr<Store> again = OpenOrDie(tmp.path());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(*again->SchemaVersion(), Store::CurrentSchemaVersion());
  EXPECT_EQ(raw.One("SELECT device_class FROM workers WHERE id = 'w1'"), "rpi4");
}

TEST(StoreTest, RefusesADatabaseFromANewerVersion) {
  TempDb tmp;
  { ASSERT_NE(OpenOrDie(tmp.path()), nullptr); }
  const int newer = Store::CurrentSchemaVersion() + 4;
  { RawDb(tmp.path()).Exec(absl::StrCat("PRAGMA user_version = ", newer)); }
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(tmp.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string msg(store.status().message());
  EXPECT_NE(msg.find(absl::StrCat("version ", newer)), std::string::npos) << msg;
  EXPECT_NE(msg.find(absl::StrCat("up to ", Store::CurrentSchemaVersion())), std::string::npos) << msg;
  // Refused without touching it.
  EXPECT_EQ(RawDb(tmp.path()).One("PRAGMA user_version"), absl::StrCat(newer));
}

TEST(StoreTest, AFailedMigrationLeavesTheDatabaseAsItWas) {
  TempDb tmp;
  // A table in the way of the first migration's last CREATE TABLE.
  { RawDb(tmp.path()).Exec("CREATE TABLE models (x INTEGER)"); }
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(tmp.path());
  ASSERT_FALSE(store.ok());
  const std::string msg(store.status().message());
  EXPECT_NE(msg.find("schema 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("models"), std::string::npos) << msg;
  RawDb raw(tmp.path());
  EXPECT_EQ(raw.One("PRAGMA user_version"), "0");
  EXPECT_EQ(raw.Column("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
            std::vector<std::string>{"models"});
}

int64_t PragmaInt(Db& db, const char* pragma, std::string* text = nullptr) {
  absl::StatusOr<Stmt> st = db.Prepare(pragma);
  EXPECT_TRUE(st.ok()) << st.status();
  if (!st.ok()) return -1;
  absl::StatusOr<bool> row = st->Step();
  EXPECT_TRUE(row.ok() && *row) << pragma;
  if (text) *text = st->Text(0);
  return st->Int(0);
}

TEST(StoreTest, WalAndFullSyncOnTheWriterAndTheReaders) {
  TempDb tmp;
  std::unique_ptr<Store> store = OpenOrDie(tmp.path());
  ASSERT_NE(store, nullptr);
  constexpr int kFull = 2;  // PRAGMA synchronous: 0 off, 1 normal, 2 full, 3 extra
  std::string mode;
  ASSERT_TRUE(store->Write([&](Db& db) {
                     EXPECT_EQ(PragmaInt(db, "PRAGMA synchronous"), kFull);
                     EXPECT_EQ(PragmaInt(db, "PRAGMA foreign_keys"), 1);
                     PragmaInt(db, "PRAGMA journal_mode", &mode);
                     return absl::OkStatus();
                   }).ok());
  EXPECT_EQ(mode, "wal");
  // Two reads at once take two read connections; both must be set up alike.
  std::atomic<int> inside{0};
  auto read = [&] {
    std::string m;
    ASSERT_TRUE(store->Read([&](Db& db) {
                       ++inside;
                       while (inside < 2) std::this_thread::yield();
                       EXPECT_EQ(PragmaInt(db, "PRAGMA synchronous"), kFull);
                       EXPECT_EQ(PragmaInt(db, "PRAGMA foreign_keys"), 1);
                       PragmaInt(db, "PRAGMA journal_mode", &m);
                       return absl::OkStatus();
                     }).ok());
    EXPECT_EQ(m, "wal");
  };
  std::thread a(read), b(read);
  a.join();
  b.join();
  // WAL is a property of the file: a stranger's connection sees it too.
  EXPECT_EQ(RawDb(tmp.path()).One("PRAGMA journal_mode"), "wal");
}

TEST(StoreTest, AReadSeesOneSnapshot) {
  TempDb tmp;
  std::unique_ptr<Store> store = OpenOrDie(tmp.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(CreateKv(*store).ok());
  ASSERT_TRUE(store->Write([](Db& db) { return PutKv(db, "a", "1"); }).ok());
  ASSERT_TRUE(store->Read([&](Db& db) {
                     EXPECT_EQ(PragmaInt(db, "SELECT COUNT(*) FROM kv"), 1);
                     // Committed by the writer while this read is open.
                     EXPECT_TRUE(store->Write([](Db& w) { return PutKv(w, "b", "2"); }).ok());
                     EXPECT_EQ(PragmaInt(db, "SELECT COUNT(*) FROM kv"), 1);
                     return absl::OkStatus();
                   }).ok());
  EXPECT_EQ(ReadKv(*store).size(), 2u);
}

TEST(StoreTest, IntegrityCheckSaysOkOnlyWhenItIs) {
  TempDb tmp;
  {
    std::unique_ptr<Store> store = OpenOrDie(tmp.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Write([](Db& db) {
                       return db.Exec("CREATE TABLE t (a INTEGER, b INTEGER); CREATE INDEX t_a ON t (a);"
                                      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                                      "WHERE i < 50) INSERT INTO t SELECT i, 1000 - i FROM n;");
                     }).ok());
    absl::StatusOr<std::string> check = store->IntegrityCheck();
    ASSERT_TRUE(check.ok()) << check.status();
    EXPECT_EQ(*check, "ok");
  }
  // Point the index at the other column behind SQLite's back: its entries
  // no longer match the table.
  {
    RawDb raw(tmp.path());
    raw.Exec("PRAGMA writable_schema = ON");
    raw.Exec("UPDATE sqlite_master SET sql = 'CREATE INDEX t_a ON t (b)' WHERE name = 't_a'");
  }
  std::unique_ptr<Store> store = OpenOrDie(tmp.path());
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::string> check = store->IntegrityCheck();
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_NE(*check, "ok");
  EXPECT_NE(check->find("t_a"), std::string::npos) << *check;
}

}  // namespace
}  // namespace edgenas
