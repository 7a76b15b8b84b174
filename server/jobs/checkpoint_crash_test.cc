// A checkpoint and its artifacts survive kill -9 together: a process that
// writes checkpoint after checkpoint is killed at arbitrary moments, and the
// database it leaves restores the last acknowledged checkpoint or a later
// one, whole, never a mix.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/jobs/job_rows.h"
#include "server/store/store.h"

namespace edgenas {
namespace {

// Checkpoint n: its artifacts are made from n, so a restore can tell
// whether JSON and artifacts belong together.
StrategyCheckpoint Nth(int n) {
  StrategyCheckpoint c;
  c.state = {{"n", n}};
  c.artifacts["population"] = std::string(200000 + n % 7 * 1000, static_cast<char>('a' + n % 26));
  if (n % 2 == 0) c.artifacts["even"] = absl::StrCat("checkpoint ", n);
  return c;
}

// Writes checkpoints 1, 2, ... of job-1 forever, telling `fd` of each commit.
[[noreturn]] void Writer(const std::string& path, int fd) {
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(path);
  if (!store.ok()) _exit(2);
  for (int n = 1;; ++n) {
    if (!(*store)->Write([&](Db& db) { return SaveCheckpoint(db, "job-1", Nth(n)); }).ok()) _exit(3);
    if (write(fd, &n, sizeof n) != sizeof n) _exit(4);
  }
}

TEST(CheckpointCrashTest, KilledMidWriteTheCheckpointRestoresWhole) {
  std::string tmpl = ::testing::TempDir() + "/checkpoint_crash_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const std::string path = tmpl + "/edgenas.db";
  {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    v1::Job job;
    job.set_id("job-1");
    job.set_state(v1::JOB_RUNNING);
    ASSERT_TRUE((*store)->Write([&](Db& db) { return InsertJob(db, job); }).ok());
  }
  std::mt19937 rng(9);
  int acknowledged = 0;
  for (int round = 0; round < 6; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      Writer(path, fds[1]);
    }
    close(fds[1]);
    // Let it commit a few, then kill it wherever it is.
    int n = 0, seen = 0;
    const int before_kill = 3 + static_cast<int>(rng() % 10);
    while (seen < before_kill && read(fds[0], &n, sizeof n) == sizeof n) {
      ++seen;
      acknowledged = n;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    while (read(fds[0], &n, sizeof n) == sizeof n) acknowledged = n;  // told before it died
    close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself: " << status;

    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    std::optional<StrategyCheckpoint> got;
    ASSERT_TRUE((*store)
                    ->Read([&](Db& db) -> absl::Status {
                      absl::StatusOr<std::optional<StrategyCheckpoint>> c = LoadCheckpoint(db, "job-1");
                      if (!c.ok()) return c.status();
                      got = *std::move(c);
                      return absl::OkStatus();
                    })
                    .ok())
        << "round " << round;
    ASSERT_TRUE(got.has_value());
    const int restored = got->state["n"].get<int>();
    EXPECT_GE(restored, acknowledged) << "an acknowledged checkpoint was lost";
    EXPECT_LE(restored, acknowledged + 1);
    const StrategyCheckpoint want = Nth(restored);
    EXPECT_EQ(got->artifacts, want.artifacts) << "round " << round << ": checkpoint " << restored;
    EXPECT_EQ((*store)->IntegrityCheck().value_or(""), "ok");
  }
}

}  // namespace
}  // namespace edgenas
