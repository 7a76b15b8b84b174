// A seam for tests of code that reads SQLite and then acts on what it read:
// runs an action exactly between a reader's statement and its COMMIT.
#ifndef EDGENAS_SERVER_TESTING_AFTER_READ_HOOK_H_
#define EDGENAS_SERVER_TESTING_AFTER_READ_HOOK_H_

#include <sqlite3.h>

#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace edgenas {
namespace testing {

// Runs `action` once, on a thread of its own while the reader waits, when a
// read connection that has just run a statement containing `after_sql`
// starts its COMMIT: the reader has read its snapshot and let go of its
// caller's locks, and has not acted on what it read yet. Connections opened
// while the hook exists are watched (open the reader after making it).
class AfterReadHook {
 public:
  AfterReadHook(std::string after_sql, std::function<void()> action) {
    std::lock_guard<std::mutex> lock(mu_);
    after_sql_ = std::move(after_sql);
    action_ = std::move(action);
    armed_ = true;
    fired_ = false;
    primed_ = nullptr;
    sqlite3_auto_extension(reinterpret_cast<void (*)(void)>(&AfterReadHook::OnOpen));
  }
  ~AfterReadHook() {
    sqlite3_cancel_auto_extension(reinterpret_cast<void (*)(void)>(&AfterReadHook::OnOpen));
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = false;
  }
  static bool fired() {
    std::lock_guard<std::mutex> lock(mu_);
    return fired_;
  }

 private:
  static int OnOpen(sqlite3* db, const char**, const sqlite3_api_routines*) {
    sqlite3_trace_v2(db, SQLITE_TRACE_STMT, &AfterReadHook::OnStatement, db);
    return SQLITE_OK;
  }
  static int OnStatement(unsigned, void* db, void*, void* sql_text) {
    const std::string sql = static_cast<const char*>(sql_text);
    std::function<void()> run;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!armed_) return 0;
      if (sql.find(after_sql_) != std::string::npos) {
        primed_ = db;
      } else if (sql == "COMMIT" && primed_ == db) {
        armed_ = false;
        fired_ = true;
        run = action_;
      }
    }
    // On a thread of its own, so the action takes its locks holding none of
    // the statement's (no lock-order edge through SQLite's mutex).
    if (run) std::thread(run).join();
    return 0;
  }
  static inline std::mutex mu_;
  static inline std::string after_sql_;
  static inline std::function<void()> action_;
  static inline bool armed_ = false, fired_ = false;
  static inline void* primed_ = nullptr;
};

}  // namespace testing
}  // namespace edgenas

#endif  // EDGENAS_SERVER_TESTING_AFTER_READ_HOOK_H_
