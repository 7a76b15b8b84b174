// A strategy's checkpoint and its artifacts survive kill -9 of the
// coordinator together: a process running a Coordinator (what edgenasd
// runs) checkpoints a job through its StoreSearchContext again and again and
// is killed at arbitrary moments; a coordinator started on what it left
// restores the last acknowledged checkpoint or a later one, whole, never
// the JSON of one with the artifacts of another.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/coordinator.h"
#include "server/jobs/job_rows.h"
#include "server/jobs/store_search_context.h"
#include "tests/integration/edgenasd_process.h"

namespace edgenas {
namespace {

constexpr char kJob[] = "job-checkpoints";

// Checkpoint n: its artifacts are made from n, so a restore can tell
// whether the JSON and the artifacts belong together.
StrategyCheckpoint Nth(int n) {
  StrategyCheckpoint c;
  c.state = {{"generation", n}};
  c.artifacts["population"] = std::string(200000 + n % 7 * 1000, static_cast<char>('a' + n % 26));
  if (n % 2 == 0) c.artifacts["even"] = absl::StrCat("checkpoint ", n);
  return c;
}

std::unique_ptr<Coordinator> StartCoordinator(const std::string& dir) {
  CoordinatorOptions o;
  o.data_dir = dir;
  absl::StatusOr<std::unique_ptr<Coordinator>> c = Coordinator::Start(o);
  return c.ok() ? *std::move(c) : nullptr;
}

// Checkpoints generations 1, 2, ... of the job forever, telling `fd` of each
// one acknowledged.
[[noreturn]] void Strategy(const std::string& dir, int fd) {
  std::unique_ptr<Coordinator> c = StartCoordinator(dir);
  if (!c) _exit(2);
  std::atomic<bool> cancelled{false};
  StoreSearchContext ctx(c->jobs()->services(), kJob, SearchSettings(), c->now_ms(), &cancelled);
  for (int n = 1;; ++n) {
    if (!ctx.Checkpoint(Nth(n)).ok()) _exit(3);
    if (write(fd, &n, sizeof n) != sizeof n) _exit(4);
  }
}

TEST(CheckpointCrash, KilledMidWriteTheCoordinatorRestoresTheCheckpointWhole) {
  const std::string dir = testing::MakeTempDir();
  {
    std::unique_ptr<Coordinator> c = StartCoordinator(dir);
    ASSERT_NE(c, nullptr);
    v1::Job job;
    job.set_id(kJob);
    job.set_state(v1::JOB_RUNNING);
    ASSERT_TRUE(c->store()->Write([&](Db& db) { return InsertJob(db, job); }).ok());
  }
  std::mt19937 rng(9);
  int acknowledged = 0;
  for (int round = 0; round < 8; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      Strategy(dir, fds[1]);
    }
    close(fds[1]);
    // Let it commit a few, then kill it wherever it is.
    int n = 0, seen = 0;
    const int before_kill = 2 + static_cast<int>(rng() % 10);
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
    ASSERT_TRUE(WIFSIGNALED(status)) << "the coordinator stopped by itself: " << status;

    std::unique_ptr<Coordinator> c = StartCoordinator(dir);
    ASSERT_NE(c, nullptr) << "round " << round;
    std::atomic<bool> cancelled{false};
    StoreSearchContext ctx(c->jobs()->services(), kJob, SearchSettings(), c->now_ms(), &cancelled);
    absl::StatusOr<std::optional<StrategyCheckpoint>> got = ctx.Restore();
    ASSERT_TRUE(got.ok()) << "round " << round << ": " << got.status();
    ASSERT_TRUE(got->has_value());
    const int restored = (*got)->state["generation"].get<int>();
    EXPECT_GE(restored, acknowledged) << "an acknowledged checkpoint was lost";
    EXPECT_LE(restored, acknowledged + 1);
    EXPECT_EQ((*got)->artifacts, Nth(restored).artifacts)
        << "round " << round << ": the artifacts are not checkpoint " << restored << "'s";
    EXPECT_EQ(c->store()->IntegrityCheck().value_or(""), "ok");
  }
  EXPECT_GE(acknowledged, 8);
}

}  // namespace
}  // namespace edgenas
