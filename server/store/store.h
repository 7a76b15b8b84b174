// The coordinator's SQLite database: WAL mode, synchronous=FULL, a versioned
// schema with migrations, and exactly one writer.
//
// Every write runs on the writer thread inside BEGIN IMMEDIATE ... COMMIT.
// Writes that arrive together share one transaction (group commit), each in
// its own savepoint, so one failing write does not undo the others. A
// write's caller hears back only after COMMIT returned: an acknowledged
// write survives a crash. Reads run on a small pool of read connections,
// each in its own snapshot.
#ifndef EDGENAS_SERVER_STORE_STORE_H_
#define EDGENAS_SERVER_STORE_STORE_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "server/store/sqlite.h"

namespace edgenas {

class Store {
 public:
  using WriteFn = std::function<absl::Status(Db&)>;
  using ReadFn = std::function<absl::Status(Db&)>;
  using Done = std::function<void(absl::Status)>;

  // Opens or creates the database at `path` and migrates it to the current
  // schema. A database from a newer edgenas is refused.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path);
  // Finishes queued writes, then closes every connection.
  ~Store();

  // Runs `fn` in a write transaction; returns its status after COMMIT (or
  // the commit's error).
  absl::Status Write(WriteFn fn);
  // The same without waiting: `done` runs on the writer thread after COMMIT.
  // `done` must not block.
  void WriteAsync(WriteFn fn, Done done);
  // Runs `fn` on a read connection inside a read transaction.
  absl::Status Read(const ReadFn& fn);

  static int CurrentSchemaVersion();
  absl::StatusOr<int> SchemaVersion();
  // "ok" when PRAGMA integrity_check finds nothing.
  absl::StatusOr<std::string> IntegrityCheck();

 private:
  struct PendingWrite {
    WriteFn fn;
    Done done;
  };
  explicit Store(std::unique_ptr<Db> writer) : writer_(std::move(writer)) {}
  void WriterLoop();
  void Commit(std::vector<PendingWrite>& batch);

  std::string path_;
  std::unique_ptr<Db> writer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PendingWrite> queue_;
  bool stopping_ = false;
  std::thread writer_thread_;

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Db>> idle_readers_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_STORE_STORE_H_
