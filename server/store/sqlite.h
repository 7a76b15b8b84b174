// A thin RAII layer over SQLite: a connection, prepared statements, and
// SQLite errors turned into Status at this edge.
#ifndef EDGENAS_SERVER_STORE_SQLITE_H_
#define EDGENAS_SERVER_STORE_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace edgenas {

class Stmt;

class Db {
 public:
  // Opens (creating if asked) the database at `path` with a busy timeout,
  // WAL journaling, synchronous=FULL and foreign keys on.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& path, bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  absl::Status Exec(const std::string& sql);
  absl::StatusOr<Stmt> Prepare(const char* sql);
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() { return db_; }
  absl::Status Error(const char* what) const;

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// A prepared statement; bind with 1-based indices, then Step until done.
class Stmt {
 public:
  Stmt(Stmt&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt();

  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, int v) { return Bind(i, int64_t{v}); }
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, const std::string& v);
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string(v)); }
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
  Stmt(Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Db* db_;
  sqlite3_stmt* stmt_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_STORE_SQLITE_H_
