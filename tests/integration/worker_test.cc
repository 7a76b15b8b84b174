// Remote workers against a real edgenasd: enrollment with good, reused,
// expired and wrong tokens; a revoked worker refused; and a latency worker
// killed with SIGKILL in the middle of measurements 20 times while others
// run: every task ends exactly once, with one accepted result; redundancy
// outvoting a lying worker; and a remote trainer doing a job's training.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "server/spec/job_spec.h"
#include "tests/integration/edgenasd_process.h"
#include "tests/integration/worker_process.h"

namespace edgenas {
namespace {

using testing::EdgenasdProcess;

using testing::WorkerProcess;

std::string CreateEnrollToken(EdgenasdProcess& s, const std::string& admin,
                              const std::string& device_class, int ttl_seconds) {
  v1::CreateTokenRequest req;
  req.set_kind(v1::CreateTokenRequest::KIND_ENROLLMENT);
  req.set_device_class(device_class);
  req.set_ttl_seconds(ttl_seconds);
  v1::CreateTokenResponse resp;
  grpc::Status st = s.Admin()->CreateToken(EdgenasdProcess::Context(admin).get(), req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return resp.token();
}

grpc::Status Enroll(EdgenasdProcess& s, const std::string& token, const std::string& device_class,
                    v1::EnrollResponse* out) {
  v1::EnrollRequest req;
  req.set_enroll_token(token);
  req.set_device_class(device_class);
  req.set_role(v1::WORKER_ROLE_LATENCY);
  return s.Workers()->Enroll(EdgenasdProcess::Context("").get(), req, out);
}

// Submits a job from its JSON spec; its id, or empty (with a test failure).
std::string SubmitJob(EdgenasdProcess& s, const std::string& admin, const std::string& spec_json) {
  absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(spec_json);
  EXPECT_TRUE(spec.ok()) << spec.status();
  if (!spec.ok()) return "";
  v1::SubmitJobRequest submit;
  *submit.mutable_spec() = *spec;
  v1::SubmitJobResponse submitted;
  grpc::Status st =
      s.Search()->SubmitJob(EdgenasdProcess::Context(admin).get(), submit, &submitted);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return submitted.job_id();
}

// Polls a job until it succeeds or fails, or the deadline passes; its last state.
v1::Job WaitForJob(EdgenasdProcess& s, const std::string& admin, const std::string& job_id,
                   std::chrono::steady_clock::time_point deadline) {
  v1::GetJobRequest gj;
  gj.set_job_id(job_id);
  v1::Job job;
  while (std::chrono::steady_clock::now() < deadline) {
    grpc::Status st = s.Search()->GetJob(EdgenasdProcess::Context(admin).get(), gj, &job);
    EXPECT_TRUE(st.ok()) << st.error_message();
    if (!st.ok() || job.state() == v1::JOB_SUCCEEDED || job.state() == v1::JOB_FAILED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return job;
}

TEST(Workers, EnrollmentTakesAGoodTokenOnceAndRefusesTheRest) {
  const std::string dir = testing::MakeTempDir();
  EdgenasdProcess server(dir, {});
  ASSERT_TRUE(server.ok());
  const std::string admin = testing::ReadToken(dir + "/admin.token");
  v1::EnrollResponse r;
  const std::string good = CreateEnrollToken(server, admin, "rpi4", 3600);
  ASSERT_TRUE(Enroll(server, good, "rpi4", &r).ok());
  EXPECT_FALSE(r.credential().empty());
  EXPECT_EQ(Enroll(server, good, "rpi4", &r).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);  // reused
  const std::string wrong_class = CreateEnrollToken(server, admin, "rpi4", 3600);
  EXPECT_EQ(Enroll(server, wrong_class, "pixel7", &r).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Enroll(server, "enr_" + std::string(64, 'a'), "rpi4", &r).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);  // never issued
  const std::string short_lived = CreateEnrollToken(server, admin, "rpi4", 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  grpc::Status expired = Enroll(server, short_lived, "rpi4", &r);
  EXPECT_EQ(expired.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(expired.error_message().find("expired"), std::string::npos);
}

TEST(Workers, ARevokedWorkerIsRefusedOnEveryRpc) {
  const std::string dir = testing::MakeTempDir();
  EdgenasdProcess server(dir, {});
  ASSERT_TRUE(server.ok());
  const std::string admin = testing::ReadToken(dir + "/admin.token");
  v1::EnrollResponse me;
  ASSERT_TRUE(Enroll(server, CreateEnrollToken(server, admin, "rpi4", 600), "rpi4", &me).ok());
  auto workers = server.Workers();
  v1::HeartbeatRequest hb;
  hb.set_worker_id(me.worker_id());
  v1::HeartbeatResponse hr;
  ASSERT_TRUE(workers->Heartbeat(EdgenasdProcess::Context(me.credential()).get(), hb, &hr).ok());
  v1::RevokeWorkerRequest rv;
  rv.set_worker_id(me.worker_id());
  v1::RevokeWorkerResponse rr;
  ASSERT_TRUE(server.Admin()->RevokeWorker(EdgenasdProcess::Context(admin).get(), rv, &rr).ok());
  EXPECT_EQ(
      workers->Heartbeat(EdgenasdProcess::Context(me.credential()).get(), hb, &hr).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  v1::AcquireTaskRequest aq;
  aq.set_worker_id(me.worker_id());
  v1::AcquireTaskResponse ar;
  EXPECT_EQ(
      workers->AcquireTask(EdgenasdProcess::Context(me.credential()).get(), aq, &ar).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  v1::ReportResultRequest rep;
  rep.set_worker_id(me.worker_id());
  v1::ReportResultResponse rpr;
  EXPECT_EQ(workers->ReportResult(EdgenasdProcess::Context(me.credential()).get(), rep, &rpr)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST(Workers, AWorkerKilledMidMeasurementTwentyTimesLosesNothingAndDuplicatesNothing) {
  if (!testing::HaveFashionMnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const std::string dir = testing::MakeTempDir();
  // Short leases bring a killed worker's task back quickly; the kills are
  // this test's doing, so they must not quarantine anything.
  EdgenasdProcess server(
      dir, {"--local-trainers", "1", "--lease-seconds", "2", "--max-failures", "1000"});
  ASSERT_TRUE(server.ok());
  const std::string admin = testing::ReadToken(dir + "/admin.token");
  constexpr char kClass[] = "lab-x86";
  std::vector<std::unique_ptr<WorkerProcess>> others;
  for (int i = 0; i < 2; ++i)
    others.push_back(
        std::make_unique<WorkerProcess>(server.address(), dir + "/w" + std::to_string(i),
                                        CreateEnrollToken(server, admin, kClass, 600), kClass,
                                        dir + "/w" + std::to_string(i) + ".log"));
  const std::string victim_dir = dir + "/victim", victim_log = dir + "/victim.log";
  auto victim = std::make_unique<WorkerProcess>(server.address(), victim_dir,
                                                CreateEnrollToken(server, admin, kClass, 600),
                                                kClass, victim_log);

  // More measurements than kills, so the victim still finds work after 20
  // of them when the other two take their share quickly (a loaded machine).
  const std::string spec_json = std::string(R"({
    "name": "kill-workers", "seed": 3,
    "dataset": {"name": "fashion-mnist", "validation_fraction": 0.01, "max_train_images": 200},
    "strategy": {"name": "random", "params": {"batch": 4, "space": {"max_mflops": 3}}},
    "objective": {"kind": "mnas", "target_latency_ms": 0.05, "device_class": ")") +
                                kClass + R"("},
    "budget": {"max_trials": 24, "max_minutes": 30},
    "training": {"epochs": 1, "batch_size": 32, "threads": 1},
    "latency": {"batch": 1, "threads": 1, "warmup": 2, "repeat": 30, "min_repeat_ms": 40}
  })";
  const std::string job_id = SubmitJob(server, admin, spec_json);
  ASSERT_FALSE(job_id.empty());

  std::mt19937 rng(5);
  int kills = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(15);
  while (kills < 20 && std::chrono::steady_clock::now() < deadline) {
    // Wait until the victim starts a measurement, then kill it partway through.
    const int seen = victim->Count("latency measurement job-");
    const auto wait_until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (victim->Count("latency measurement job-") == seen && std::chrono::steady_clock::now() < wait_until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (victim->Count("latency measurement job-") == seen) break;  // no more work came its way
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 600));
    victim->Signal(SIGKILL);
    ++kills;
    victim = std::make_unique<WorkerProcess>(server.address(), victim_dir, "", kClass, victim_log);
  }
  EXPECT_EQ(kills, 20);

  const v1::Job job = WaitForJob(server, admin, job_id, deadline);
  EXPECT_EQ(job.state(), v1::JOB_SUCCEEDED) << job.error();
  EXPECT_EQ(job.trials_done(), 24);
  victim.reset();
  others.clear();
  EXPECT_EQ(server.Stop(), 0);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir + "/edgenas.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  auto count = [&](const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  };
  // Every measurement task ended once, done, holding the one report accepted for it.
  EXPECT_EQ(count("SELECT COUNT(*) FROM tasks WHERE kind = 'measure_latency'"), 24);
  EXPECT_EQ(count("SELECT COUNT(*) FROM tasks WHERE kind = 'measure_latency' AND state = 2 AND result IS NOT NULL"),
            24);
  // Kills were real: some tasks needed more than one attempt.
  EXPECT_GT(count("SELECT COUNT(*) FROM tasks WHERE kind = 'measure_latency' AND attempt > 1"), 0);
  // No measurement from an attempt whose lease was lost: each stored row came
  // from a report the queue accepted (a result or a noisy one sent round again).
  EXPECT_EQ(count("SELECT COUNT(*) FROM measurements m WHERE NOT EXISTS (SELECT 1 FROM tasks t "
                  "WHERE t.id = m.task_id)"),
            0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM trials"), 24);
  sqlite3_close(db);
}

TEST(Workers, RedundancyOutvotesALyingWorkerAndFlagsIt) {
  if (!testing::HaveFashionMnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const std::string dir = testing::MakeTempDir();
  constexpr char kClass[] = "lab";
  EdgenasdProcess server(dir, {"--local-trainers", "1", "--redundancy", "lab=2:0.5"});
  ASSERT_TRUE(server.ok());
  const std::string admin = testing::ReadToken(dir + "/admin.token");
  std::vector<std::unique_ptr<WorkerProcess>> honest;
  for (int i = 0; i < 2; ++i)
    honest.push_back(
        std::make_unique<WorkerProcess>(server.address(), dir + "/h" + std::to_string(i),
                                        CreateEnrollToken(server, admin, kClass, 600), kClass,
                                        dir + "/h" + std::to_string(i) + ".log"));
  // The liar: a worker of the class that reports every latency as 5 ms.
  v1::EnrollResponse liar;
  ASSERT_TRUE(Enroll(server, CreateEnrollToken(server, admin, kClass, 600), kClass, &liar).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> lies{0};
  std::thread liar_loop([&] {
    auto workers = server.Workers();
    while (!stop) {
      v1::AcquireTaskRequest aq;
      aq.set_worker_id(liar.worker_id());
      aq.set_wait_ms(200);
      v1::AcquireTaskResponse ar;
      if (!workers->AcquireTask(EdgenasdProcess::Context(liar.credential()).get(), aq, &ar).ok() ||
          !ar.has_task())
        continue;
      v1::ReportResultRequest rep;
      rep.set_worker_id(liar.worker_id());
      rep.set_task_id(ar.task().task_id());
      rep.set_attempt(ar.task().attempt());
      for (int r = 0; r < 5; ++r) rep.mutable_latency()->add_repeat_ms(5.0);
      rep.mutable_latency()->set_median_ms(5.0);
      rep.mutable_latency()->set_p90_ms(5.0);
      rep.mutable_latency()->set_cv(0.001);
      v1::ReportResultResponse rr;
      if (workers->ReportResult(EdgenasdProcess::Context(liar.credential()).get(), rep, &rr).ok() &&
          rr.accepted())
        ++lies;
    }
  });
  const std::string spec_json = std::string(R"({
    "name": "redundancy", "seed": 5,
    "dataset": {"name": "fashion-mnist", "validation_fraction": 0.01, "max_train_images": 200},
    "strategy": {"name": "random", "params": {"batch": 4, "space": {"max_mflops": 3}}},
    "objective": {"kind": "mnas", "target_latency_ms": 0.05, "device_class": ")") +
                                kClass + R"("},
    "budget": {"max_trials": 8, "max_minutes": 20},
    "training": {"epochs": 1, "batch_size": 32, "threads": 1},
    "latency": {"batch": 1, "threads": 1, "warmup": 2, "repeat": 10, "min_repeat_ms": 5}
  })";
  const std::string job_id = SubmitJob(server, admin, spec_json);
  const v1::Job job = WaitForJob(server, admin, job_id,
                                 std::chrono::steady_clock::now() + std::chrono::minutes(10));
  stop = true;
  liar_loop.join();
  EXPECT_EQ(job.state(), v1::JOB_SUCCEEDED) << job.error();
  EXPECT_GT(lies.load(), 0);

  // The liar's 5 ms never became a trial's latency: every one was outvoted.
  v1::ListCandidatesRequest lr;
  lr.set_job_id(job_id);
  v1::ListCandidatesResponse cands;
  ASSERT_TRUE(
      server.Search()->ListCandidates(EdgenasdProcess::Context(admin).get(), lr, &cands).ok());
  ASSERT_EQ(cands.candidates_size(), 8);
  for (const v1::Candidate& c : cands.candidates()) {
    ASSERT_EQ(c.result().status(), v1::TRIAL_OK) << c.result().error();
    EXPECT_LT(c.result().latency().median_ms(), 2.0) << c.id();
  }
  // It is flagged, the honest ones are not.
  v1::ListWorkersResponse workers;
  ASSERT_TRUE(
      server.Admin()->ListWorkers(EdgenasdProcess::Context(admin).get(), {}, &workers).ok());
  int flagged = 0;
  for (const v1::WorkerInfo& w : workers.workers()) {
    const bool is_liar = w.worker_id() == liar.worker_id();
    EXPECT_EQ(w.health().rfind("flagged", 0) == 0, is_liar) << w.worker_id() << ": " << w.health();
    flagged += w.health().rfind("flagged", 0) == 0;
  }
  EXPECT_EQ(flagged, 1);
}

// SIGTERM (systemctl stop) while the worker waits in a long poll for a task:
// it leaves at once, not when the coordinator would have answered the poll.
TEST(Workers, SigtermEndsALongPollAtOnce) {
  const std::string dir = testing::MakeTempDir();
  EdgenasdProcess server(dir, {});
  ASSERT_TRUE(server.ok());
  const std::string admin = testing::ReadToken(dir + "/admin.token");
  WorkerProcess worker(server.address(), dir + "/w", CreateEnrollToken(server, admin, "rpi4", 600),
                       "rpi4", dir + "/w.log", {"--wait-ms", "30000"});
  for (int i = 0; i < 100 && worker.Count("working for") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(worker.Count("working for"), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // inside the 30 s poll by now
  const auto t0 = std::chrono::steady_clock::now();
  worker.Signal(SIGTERM);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 10.0);  // the poll had more than 25 s to go
  EXPECT_EQ(worker.Count("stopped after 0 task(s)"), 1);
  EXPECT_EQ(worker.Count("retrying"), 0);  // an interrupted poll is no connection error
}

// A worker that gave up its long poll (its deadline passed, or SIGTERM) is
// given no task afterwards: one granted to the abandoned poll would sit
// leased to nobody until the lease ran out (10 minutes here).
TEST(Workers, AnAbandonedLongPollIsGivenNoTask) {
  if (!testing::HaveFashionMnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const std::string dir = testing::MakeTempDir();
  constexpr char kClass[] = "lab";
  EdgenasdProcess server(dir, {"--local-trainers", "1", "--lease-seconds", "600"});
  ASSERT_TRUE(server.ok());
  const std::string admin = testing::ReadToken(dir + "/admin.token");
  v1::EnrollResponse quitter;
  ASSERT_TRUE(Enroll(server, CreateEnrollToken(server, admin, kClass, 600), kClass, &quitter).ok());
  {
    v1::AcquireTaskRequest aq;
    aq.set_worker_id(quitter.worker_id());
    aq.set_wait_ms(30000);
    v1::AcquireTaskResponse ar;
    auto ctx = EdgenasdProcess::Context(quitter.credential());
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(1500));
    const grpc::Status st = server.Workers()->AcquireTask(ctx.get(), aq, &ar);
    ASSERT_EQ(st.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);  // the server still waits
  }
  const std::string job_id = SubmitJob(server, admin,
                                       std::string(R"({
    "name": "abandoned-poll", "seed": 3,
    "dataset": {"name": "fashion-mnist", "validation_fraction": 0.01, "max_train_images": 200},
    "strategy": {"name": "random", "params": {"batch": 1, "space": {"max_mflops": 3}}},
    "objective": {"kind": "mnas", "target_latency_ms": 0.05, "device_class": ")") +
                                           kClass + R"("},
    "budget": {"max_trials": 1, "max_minutes": 20},
    "training": {"epochs": 1, "batch_size": 32, "threads": 1},
    "latency": {"batch": 1, "threads": 1, "warmup": 2, "repeat": 5, "min_repeat_ms": 5}
  })");
  // Training one candidate on 200 images takes a few seconds; its latency
  // task is published while the abandoned poll would still be waiting.
  std::this_thread::sleep_for(std::chrono::seconds(8));
  WorkerProcess worker(server.address(), dir + "/w", CreateEnrollToken(server, admin, kClass, 600),
                       kClass, dir + "/w.log");
  const v1::Job job = WaitForJob(server, admin, job_id,
                                 std::chrono::steady_clock::now() + std::chrono::seconds(90));
  EXPECT_EQ(job.state(), v1::JOB_SUCCEEDED) << job.error();
  // (More than once when a noisy machine makes the coordinator ask again.)
  EXPECT_GE(worker.Count("latency measurement job-"), 1) << "the late worker measured the candidate";
}

// A remote trainer: the coordinator has no trainer of its own, so every TRAIN
// task of the job is done by `edgenas-worker --role trainer`, which opens only
// the directory it was told holds the dataset named by the task.
TEST(Workers, ARemoteTrainerTrainsEveryCandidateOfAJob) {
  if (!testing::HaveFashionMnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const std::string dir = testing::MakeTempDir();
  EdgenasdProcess server(dir, {"--local-latency-worker"});
  ASSERT_TRUE(server.ok());
  const std::string admin = testing::ReadToken(dir + "/admin.token");
  WorkerProcess trainer(
      server.address(), dir + "/t", CreateEnrollToken(server, admin, "trainer-box", 600),
      "trainer-box", dir + "/t.log",
      {"--role", "trainer", "--dataset-dirs", "fashion-mnist=/usr/share/datasets/fashion-mnist"});
  const std::string job_id = SubmitJob(server, admin, R"({
    "name": "remote-trainer", "seed": 3,
    "dataset": {"name": "fashion-mnist", "validation_fraction": 0.05, "max_train_images": 3000},
    "strategy": {"name": "random", "params": {"batch": 3, "space": {"max_mflops": 3}}},
    "objective": {"kind": "mnas", "target_latency_ms": 0.05},
    "budget": {"max_trials": 3, "max_minutes": 10},
    "training": {"epochs": 1, "batch_size": 32, "threads": 1},
    "latency": {"batch": 1, "threads": 1, "warmup": 2, "repeat": 5, "min_repeat_ms": 2}
  })");
  const v1::Job job =
      WaitForJob(server, admin, job_id, std::chrono::steady_clock::now() + std::chrono::minutes(5));
  ASSERT_EQ(job.state(), v1::JOB_SUCCEEDED) << job.error();

  v1::ListCandidatesRequest lr;
  lr.set_job_id(job_id);
  v1::ListCandidatesResponse cands;
  ASSERT_TRUE(
      server.Search()->ListCandidates(EdgenasdProcess::Context(admin).get(), lr, &cands).ok());
  ASSERT_EQ(cands.candidates_size(), 3);
  double best = 0;
  for (const v1::Candidate& c : cands.candidates()) {
    ASSERT_EQ(c.result().status(), v1::TRIAL_OK) << c.result().error();
    EXPECT_GT(c.result().train().train_seconds(), 0) << c.id();
    best = std::max(best, c.result().train().val_accuracy());
  }
  EXPECT_GT(best, 0.3);  // trained: well above chance (0.10)
  v1::ListWorkersResponse workers;
  ASSERT_TRUE(
      server.Admin()->ListWorkers(EdgenasdProcess::Context(admin).get(), {}, &workers).ok());
  int trainers = 0;
  for (const v1::WorkerInfo& w : workers.workers()) {
    if (w.role() != v1::WORKER_ROLE_TRAINER) continue;
    ++trainers;
    EXPECT_EQ(w.tasks_done(), 3) << w.worker_id();
  }
  EXPECT_EQ(trainers, 1);
  EXPECT_EQ(trainer.Count("training job-"), 3);
}

}  // namespace
}  // namespace edgenas
