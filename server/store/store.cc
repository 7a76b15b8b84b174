#include "server/store/store.h"

#include <future>

#include "absl/strings/str_cat.h"
#include "server/store/schema.h"

namespace edgenas {
namespace {

constexpr size_t kMaxBatch = 256;

}  // namespace

int Store::CurrentSchemaVersion() { return static_cast<int>(SchemaMigrations().size()); }

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  absl::StatusOr<std::unique_ptr<Db>> db = Db::Open(path, /*create=*/true);
  if (!db.ok()) return db.status();
  // Migrate before anyone else sees the database.
  // (A statement left stepped would hold a lock that a migration's DROP TABLE
  // cannot take: read the version, and let the statement go.)
  absl::StatusOr<std::optional<int64_t>> version = (*db)->QueryInt("PRAGMA user_version");
  if (!version.ok()) return version.status();
  int have = static_cast<int>(version->value_or(0));
  const std::vector<std::string>& migrations = SchemaMigrations();
  if (have > static_cast<int>(migrations.size()))
    return absl::FailedPreconditionError(absl::StrCat(
        "database '", path, "' has schema version ", have, "; this edgenasd knows up to ",
        migrations.size(), " (a newer edgenas wrote it)"));
  // A migration may rebuild a table others refer to (SQLite cannot drop a
  // constraint in place): foreign keys are off while it runs, and checked
  // before it commits.
  if (have < static_cast<int>(migrations.size())) {
    if (absl::Status s = (*db)->Exec("PRAGMA foreign_keys=OFF"); !s.ok()) return s;
  }
  for (size_t v = have; v < migrations.size(); ++v) {
    absl::Status s = (*db)->Exec(absl::StrCat("BEGIN IMMEDIATE;\n", migrations[v],
                                              "\nPRAGMA user_version=", v + 1, ";"));
    if (s.ok()) {
      absl::StatusOr<std::optional<int64_t>> broken =
          (*db)->QueryInt("SELECT COUNT(*) FROM pragma_foreign_key_check");
      if (!broken.ok()) {
        s = broken.status();
      } else if (broken->value_or(0) > 0) {
        s = absl::DataLossError(absl::StrCat(**broken, " rows refer to rows that do not exist"));
      }
    }
    if (s.ok()) s = (*db)->Exec("COMMIT");
    if (!s.ok()) {
      (*db)->Exec("ROLLBACK").IgnoreError();
      return absl::Status(s.code(), absl::StrCat("migrating '", path, "' to schema ", v + 1, ": ",
                                                 s.message()));
    }
  }
  if (absl::Status s = (*db)->Exec("PRAGMA foreign_keys=ON"); !s.ok()) return s;
  std::unique_ptr<Store> store(new Store(*std::move(db)));
  store->path_ = path;
  store->writer_thread_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

Store::~Store() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
}

absl::Status Store::Write(WriteFn fn) {
  std::promise<absl::Status> p;
  std::future<absl::Status> f = p.get_future();
  WriteAsync(std::move(fn), [&p](absl::Status s) { p.set_value(std::move(s)); });
  return f.get();
}

void Store::WriteAsync(WriteFn fn, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queue_.push_back({std::move(fn), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  if (done) done(absl::UnavailableError("store is closing"));
}

void Store::WriterLoop() {
  for (;;) {
    std::vector<PendingWrite> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    Commit(batch);
  }
}

void Store::Commit(std::vector<PendingWrite>& batch) {
  std::vector<absl::Status> results(batch.size());
  size_t first = 0;  // the first write of the open transaction
  absl::Status begin = writer_->Exec("BEGIN IMMEDIATE");
  for (size_t i = 0; i < batch.size() && begin.ok(); ++i) {
    absl::Status s = writer_->Exec("SAVEPOINT w");
    if (s.ok()) s = batch[i].fn(*writer_);
    if (s.ok()) {
      s = writer_->Exec("RELEASE w");
    } else {
      writer_->Exec("ROLLBACK TO w").IgnoreError();
      writer_->Exec("RELEASE w").IgnoreError();
    }
    results[i] = s;
    if (!s.ok() && sqlite3_get_autocommit(writer_->raw())) {
      // SQLite rolled back the whole transaction (SQLITE_FULL, IOERR, NOMEM),
      // taking the earlier writes with it; the rest get a fresh one.
      for (size_t j = first; j < i; ++j)
        if (results[j].ok())
          results[j] = absl::Status(s.code(), absl::StrCat("rolled back with a failing write: ",
                                                           s.message()));
      first = i + 1;
      begin = writer_->Exec("BEGIN IMMEDIATE");
    }
  }
  absl::Status commit = begin.ok() ? writer_->Exec("COMMIT") : begin;
  if (begin.ok() && !commit.ok()) writer_->Exec("ROLLBACK").IgnoreError();
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].done) batch[i].done(i < first || commit.ok() ? results[i] : commit);
  }
}

absl::Status Store::Read(const ReadFn& fn) {
  std::unique_ptr<Db> db;
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    if (!idle_readers_.empty()) {
      db = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  if (!db) {
    absl::StatusOr<std::unique_ptr<Db>> opened = Db::Open(path_, /*create=*/false);
    if (!opened.ok()) return opened.status();
    db = *std::move(opened);
  }
  absl::Status s = db->Exec("BEGIN");
  if (s.ok()) {
    s = fn(*db);
    db->Exec("COMMIT").IgnoreError();
  }
  std::lock_guard<std::mutex> lock(readers_mu_);
  if (idle_readers_.size() < 8) idle_readers_.push_back(std::move(db));
  return s;
}

absl::StatusOr<int> Store::SchemaVersion() {
  int v = -1;
  absl::Status s = Read([&](Db& db) {
    absl::StatusOr<Stmt> st = db.Prepare("PRAGMA user_version");
    if (!st.ok()) return st.status();
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) return row.status();
    v = static_cast<int>(st->Int(0));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return v;
}

absl::StatusOr<std::string> Store::IntegrityCheck() {
  std::string out;
  absl::Status s = Read([&](Db& db) {
    absl::StatusOr<Stmt> st = db.Prepare("PRAGMA integrity_check");
    if (!st.ok()) return st.status();
    for (;;) {
      absl::StatusOr<bool> row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      if (!out.empty()) out += "\n";
      out += st->Text(0);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace edgenas
