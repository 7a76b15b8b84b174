// A thin RAII layer over SQLite: a connection with a cache of prepared
// statements, typed binding and querying, and SQLite errors turned into
// Status at this edge. Enums bind as their numbers, so SQL never spells an
// enum value: `db.Run("UPDATE tasks SET state = ? ...", TaskState::kDone)`.
#ifndef EDGENAS_SERVER_STORE_SQLITE_H_
#define EDGENAS_SERVER_STORE_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "absl/status/statusor.h"

namespace edgenas {

class Stmt;

namespace sqlite_internal {
// A prepared statement kept by its connection for reuse.
struct CachedStmt {
  sqlite3_stmt* stmt = nullptr;
  bool busy = false;
};
}  // namespace sqlite_internal

// A BLOB parameter (a std::string binds as TEXT).
struct Blob {
  const std::string& bytes;
};
// A NULL parameter.
struct Null {};

class Db {
 public:
  // Opens (creating if asked) the database at `path` with a busy timeout,
  // WAL journaling, synchronous=FULL and foreign keys on.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& path, bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  absl::Status Exec(const std::string& sql);
  // A statement for `sql`, from this connection's cache when one is free.
  absl::StatusOr<Stmt> Prepare(const char* sql);

  // `sql` prepared and bound to `args` (1, 2, ...), ready to Step.
  template <typename... Args>
  absl::StatusOr<Stmt> Query(const char* sql, const Args&... args);
  // Runs a statement that returns no rows.
  template <typename... Args>
  absl::Status Run(const char* sql, const Args&... args);
  // The first column of the first row as an integer; nullopt without a row.
  template <typename... Args>
  absl::StatusOr<std::optional<int64_t>> QueryInt(const char* sql, const Args&... args);
  // Calls fn(const Stmt&) -> absl::Status for each row, stopping at an error.
  template <typename Fn, typename... Args>
  absl::Status ForEachRow(const char* sql, Fn&& fn, const Args&... args);

  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() { return db_; }
  absl::Status Error(const char* what) const;

 private:
  explicit Db(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  // By SQL text. A statement in use (a query iterating while another runs
  // the same SQL) is busy; the second gets a statement of its own.
  std::map<std::string, sqlite_internal::CachedStmt> cache_;
};

// A prepared statement; bind with 1-based indices, then Step until done.
class Stmt {
 public:
  Stmt(Stmt&& other) noexcept : db_(other.db_), stmt_(other.stmt_), cached_(other.cached_) {
    other.stmt_ = nullptr;
    other.cached_ = nullptr;
  }
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt();

  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, int v) { return Bind(i, int64_t{v}); }
  Stmt& Bind(int i, bool v) { return Bind(i, int64_t{v}); }
  Stmt& Bind(int i, uint64_t v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, const std::string& v);
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string(v)); }
  Stmt& Bind(int i, const Blob& v) { return BindBlob(i, v.bytes); }
  Stmt& Bind(int i, Null) { return BindNull(i); }
  template <typename E, typename = std::enable_if_t<std::is_enum_v<E>>>
  Stmt& Bind(int i, E v) {
    return Bind(i, static_cast<int64_t>(v));
  }
  Stmt& BindBlob(int i, const std::string& bytes);
  Stmt& BindNull(int i);

  // True while a row is available; false at the end. Errors are Status.
  absl::StatusOr<bool> Step();
  // Steps to completion of a statement that returns no rows.
  absl::Status Run();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) const;
  std::string Blob(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  friend class Db;
  Stmt(Db* db, sqlite3_stmt* stmt, sqlite_internal::CachedStmt* cached)
      : db_(db), stmt_(stmt), cached_(cached) {}
  Db* db_;
  sqlite3_stmt* stmt_;
  sqlite_internal::CachedStmt* cached_;  // null: finalized when done
};

// ---- implementation -------------------------------------------------------

template <typename... Args>
absl::StatusOr<Stmt> Db::Query(const char* sql, const Args&... args) {
  absl::StatusOr<Stmt> st = Prepare(sql);
  if (!st.ok()) return st.status();
  int i = 0;
  (st->Bind(++i, args), ...);
  return st;
}

template <typename... Args>
absl::Status Db::Run(const char* sql, const Args&... args) {
  absl::StatusOr<Stmt> st = Query(sql, args...);
  if (!st.ok()) return st.status();
  return st->Run();
}

template <typename... Args>
absl::StatusOr<std::optional<int64_t>> Db::QueryInt(const char* sql, const Args&... args) {
  absl::StatusOr<Stmt> st = Query(sql, args...);
  if (!st.ok()) return st.status();
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row || st->IsNull(0)) return std::optional<int64_t>();
  return std::optional<int64_t>(st->Int(0));
}

template <typename Fn, typename... Args>
absl::Status Db::ForEachRow(const char* sql, Fn&& fn, const Args&... args) {
  absl::StatusOr<Stmt> st = Query(sql, args...);
  if (!st.ok()) return st.status();
  for (;;) {
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
    if (absl::Status s = fn(static_cast<const Stmt&>(*st)); !s.ok()) return s;
  }
}

}  // namespace edgenas

#endif  // EDGENAS_SERVER_STORE_SQLITE_H_
