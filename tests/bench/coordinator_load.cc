// coordinator_load: how edgenasd holds up under a large fleet, and how fast
// it answers GetParetoFront on a large job. Not a ctest test: run it with
// tests/bench/coordinator_load.sh, which prints its report.
//
// Phase 1 starts a fresh edgenasd (no local workers), enrolls --workers
// simulated workers (half trainers, half latency workers of class "sim"),
// submits a random-strategy job, and drives the fleet for --duration-s
// (see load_fleet.h); when a job reaches its trial budget the next one is
// submitted, so the fleet never runs dry. It reports client-side latency per
// RPC kind, rates, accepted reports, trials completed over time (and, for a
// run of two minutes or more, the last minute's throughput against the
// first's), and the server's CPU and memory.
// Phase 2 (--pareto-trials N) writes a finished job with N synthetic trials
// into the stopped server's database, restarts it, times GetParetoFront,
// and checks the answer against an exhaustive front of the inserted trials.
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "edgenas/v1/services.grpc.pb.h"
#include "runtime/util/flags.h"
#include "runtime/util/mutex_checks.h"
#include "server/spec/job_spec.h"
#include "tests/bench/load_fleet.h"
#include "tests/bench/load_pareto.h"
#include "tests/bench/load_report.h"
#include "tests/bench/load_server_process.h"

namespace edgenas {
namespace bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string edgenasd = "build/server/edgenasd";
  int workers = 1000;
  double duration_s = 60;
  int channels = 0;  // 0: one connection per worker
  int batch = 64;
  double max_mflops = 0;  // 0: the space's default, as a job that does not set it
  int max_trials = 100000;
  int pareto_trials = 0;
  int pareto_calls = 20;
  double pareto_bound_ms = 1.0;
  int progress_s = 10;
  std::string data_dir;  // empty: a fresh directory under /tmp
  bool keep_data = false;
  FleetOptions fleet;
};

constexpr double kReportP99TargetMs = 20;
// The coordinator keeps its pace: the last minute's trials/s at least this
// share of the first minute's (the target of issue #16).
constexpr double kThroughputKeptTarget = 0.9;
constexpr double kParetoTargetMs = 50;

std::unique_ptr<grpc::ClientContext> Context(const std::string& token, int timeout_s = 30) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s));
  return ctx;
}

absl::Status FromGrpc(const grpc::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double OwnCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// CPU time the whole machine spent busy (all cores, every process), in seconds.
double MachineBusySeconds() {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return 0;
  unsigned long long v[8] = {};
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                            &v[3], &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n < 5) return 0;
  const unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];  // not idle, not iowait
  return static_cast<double>(busy) / sysconf(_SC_CLK_TCK);
}

std::string FileSystemOf(const std::string& path) {
  struct statfs f {};
  if (statfs(path.c_str(), &f) != 0) return "unknown";
  switch (f.f_type) {
    case 0xEF53:
      return "ext4";
    case 0x01021994:
      return "tmpfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794c7630:
      return "overlayfs";
    default:
      return "other";
  }
}

// One enrollment token and one Enroll per worker, from a few threads so
// that the writes share commits; each worker enrolls over its own channel,
// which also opens that connection before the measured run.
absl::StatusOr<std::vector<SimWorkerIdentity>> EnrollFleet(
    const std::string& address, const std::string& admin_token,
    const std::vector<std::shared_ptr<grpc::Channel>>& channels, int workers,
    const std::string& device_class) {
  auto admin = v1::AdminService::NewStub(OwnConnection(address));
  std::vector<SimWorkerIdentity> out(workers);
  std::mutex mu;
  absl::Status first_error;
  int next = 0;
  auto enroll_some = [&] {
    for (;;) {
      int i;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (next >= workers || !first_error.ok()) return;
        i = next++;
      }
      v1::CreateTokenRequest tr;
      tr.set_kind(v1::CreateTokenRequest::KIND_ENROLLMENT);
      tr.set_device_class(device_class);
      tr.set_ttl_seconds(3600);
      tr.set_description("coordinator_load");
      v1::CreateTokenResponse token;
      absl::Status s =
          FromGrpc(admin->CreateToken(Context(admin_token).get(), tr, &token), "CreateToken");
      SimWorkerIdentity& w = out[i];
      w.role = i % 2 == 0 ? v1::WORKER_ROLE_TRAINER : v1::WORKER_ROLE_LATENCY;
      w.channel = i % static_cast<int>(channels.size());
      if (s.ok()) {
        v1::EnrollRequest er;
        er.set_enroll_token(token.token());
        er.set_device_class(device_class);
        er.set_role(w.role);
        er.mutable_fingerprint()->set_cpu_model("simulated");
        v1::EnrollResponse enrolled;
        auto stub = v1::WorkerService::NewStub(channels[w.channel]);
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        s = FromGrpc(stub->Enroll(&ctx, er, &enrolled), "Enroll");
        w.worker_id = enrolled.worker_id();
        w.credential = enrolled.credential();
      }
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = s;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) threads.emplace_back(enroll_some);
  for (std::thread& t : threads) t.join();
  if (!first_error.ok()) return first_error;
  return out;
}

// The `index`-th job of the run (0, 1, ...): its own seed, so that it draws
// architectures of its own rather than the cache's answers for its predecessor's.
absl::StatusOr<std::string> SubmitLoadJob(v1::SearchService::Stub* search, const std::string& token,
                                          const Options& o, int index) {
  const int max_minutes = std::min(10080, std::max(10, static_cast<int>(o.duration_s / 60) + 10));
  const std::string space =
      o.max_mflops > 0 ? absl::StrCat(R"(, "space": {"max_mflops": )", o.max_mflops, "}") : "";
  const std::string json =
      absl::StrCat(R"({"name": "coordinator-load-)", index, R"(", "seed": )", o.fleet.seed + index,
                   R"(,
      "dataset": {"name": "fashion-mnist"},
      "strategy": {"name": "random", "params": {"batch": )",
                   o.batch, space, R"(}},
      "objective": {"kind": "mnas", "target_latency_ms": 1, "device_class": ")",
                   o.fleet.device_class, R"("},
      "budget": {"max_trials": )",
                   o.max_trials, R"(, "max_minutes": )", max_minutes, "}}");
  absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(json);
  if (!spec.ok()) return spec.status();
  v1::SubmitJobRequest req;
  *req.mutable_spec() = *spec;
  v1::SubmitJobResponse resp;
  if (absl::Status s = FromGrpc(search->SubmitJob(Context(token).get(), req, &resp), "SubmitJob");
      !s.ok())
    return s;
  return resp.job_id();
}

absl::StatusOr<v1::Job> GetJob(v1::SearchService::Stub* search, const std::string& token,
                               const std::string& job_id) {
  v1::GetJobRequest req;
  req.set_job_id(job_id);
  v1::Job job;
  if (absl::Status s = FromGrpc(search->GetJob(Context(token).get(), req, &job), "GetJob"); !s.ok())
    return s;
  return job;
}

// The run's jobs, one after the other: the next is submitted as soon as the
// current one has used its trial budget.
class JobSeries {
 public:
  JobSeries(const Options& o, v1::SearchService::Stub* search, const std::string& token)
      : o_(o), search_(search), token_(token) {}

  absl::Status SubmitNext() {
    absl::StatusOr<std::string> id = SubmitLoadJob(search_, token_, o_, jobs_);
    if (!id.ok()) return id.status();
    current_ = *std::move(id);
    ++jobs_;
    return absl::OkStatus();
  }

  // Reads the current job; if it succeeded, counts its trials and submits
  // the next. A job that failed or was cancelled ends the run.
  absl::Status Poll() {
    absl::StatusOr<v1::Job> job = GetJob(search_, token_, current_);
    if (!job.ok()) return job.status();
    last_ = *std::move(job);
    switch (last_.state()) {
      case v1::JOB_PENDING:
      case v1::JOB_RUNNING:
        return absl::OkStatus();
      case v1::JOB_SUCCEEDED:
        finished_trials_ += last_.trials_done();
        last_.set_trials_done(0);
        return SubmitNext();
      case v1::JOB_FAILED:
      case v1::JOB_CANCELLED:
      default:
        return absl::InternalError(absl::StrCat("job ", current_, " ended as ",
                                                v1::JobState_Name(last_.state()), ": ",
                                                last_.error()));
    }
  }

  // Cancels the current job if it still runs, so that it does not resume
  // (and compete) in phase 2.
  absl::Status CancelCurrent() {
    if (last_.state() != v1::JOB_PENDING && last_.state() != v1::JOB_RUNNING)
      return absl::OkStatus();
    v1::CancelJobRequest cancel;
    cancel.set_job_id(current_);
    v1::CancelJobResponse cancelled;
    grpc::Status s = search_->CancelJob(Context(token_).get(), cancel, &cancelled);
    // It may have finished since the last Poll.
    if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) return absl::OkStatus();
    return FromGrpc(s, "CancelJob");
  }

  int64_t trials_done() const { return finished_trials_ + last_.trials_done(); }
  int jobs() const { return jobs_; }
  const v1::Job& last() const { return last_; }

 private:
  const Options& o_;
  v1::SearchService::Stub* search_;
  const std::string& token_;
  std::string current_;
  int jobs_ = 0;
  int64_t finished_trials_ = 0;
  v1::Job last_;
};

// Runs `fleet` for o.duration_s, polling the jobs twice a second and sampling
// the trials done every o.progress_s.
absl::StatusOr<LoadRun> DriveFleet(const Options& o, ServerProcess* server, JobSeries* jobs,
                                   Fleet fleet) {
  constexpr double kPollS = 0.5;
  LoadRun run;
  absl::StatusOr<double> server0 = server->CpuSeconds();
  const double client0 = OwnCpuSeconds(), machine0 = MachineBusySeconds();
  const Clock::time_point start = Clock::now();
  fleet.Start();
  run.samples = {{0, 0}};
  absl::Status status;
  while (status.ok() && Since(start) < o.duration_s - kPollS) {
    std::this_thread::sleep_for(std::chrono::duration<double>(kPollS));
    status = jobs->Poll();
    // The last sample is taken after Stop.
    if (Since(start) >= run.samples.back().t + o.progress_s && Since(start) < o.duration_s - 0.5)
      run.samples.push_back({Since(start), jobs->trials_done()});
  }
  run.fleet = fleet.Stop();
  if (!status.ok()) return status;
  absl::StatusOr<double> server1 = server->CpuSeconds();
  run.client_cpu_s = OwnCpuSeconds() - client0;
  run.machine_cpu_s = MachineBusySeconds() - machine0;
  if (server0.ok() && server1.ok()) run.server_cpu_s = *server1 - *server0;
  run.memory = server->Memory();
  if (absl::Status s = jobs->Poll(); !s.ok()) return s;
  run.job = jobs->last();
  run.jobs = jobs->jobs();
  run.trials_done = jobs->trials_done();
  run.samples.push_back({run.fleet.seconds, run.trials_done});
  return run;
}

absl::Status RunLoadPhase(const Options& o, ServerProcess* server, const std::string& data_dir,
                          const std::string& token) {
  std::printf("== coordinator_load: %d simulated workers for %.0f s ==\n", o.workers, o.duration_s);
  std::printf("edgenasd %s (pid %d), data dir %s on %s\n", o.edgenasd.c_str(), server->pid(),
              data_dir.c_str(), FileSystemOf(data_dir).c_str());
  const int channel_count = o.channels > 0 ? std::min(o.channels, o.workers) : o.workers;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < channel_count; ++i) channels.push_back(OwnConnection(server->address()));
  const Clock::time_point setup = Clock::now();
  absl::StatusOr<std::vector<SimWorkerIdentity>> ids =
      EnrollFleet(server->address(), token, channels, o.workers, o.fleet.device_class);
  if (!ids.ok()) return ids.status();
  std::printf(
      "workers: %d trainers, %d latency workers (class \"%s\"), %d connections, %d client "
      "threads; %d tokens created and enrolled in %.1f s\n",
      (o.workers + 1) / 2, o.workers / 2, o.fleet.device_class.c_str(), channel_count,
      o.fleet.client_threads, o.workers, Since(setup));
  std::printf(
      "each worker: Heartbeat every %d ms; AcquireTask wait_ms %d, after an empty one the "
      "next in %d ms (+-20%%); a result %s\n",
      o.fleet.heartbeat_ms, o.fleet.acquire_wait_ms, o.fleet.idle_poll_ms,
      o.fleet.work_ms > 0 ? absl::StrCat(o.fleet.work_ms, " ms after the task").c_str()
                          : "reported at once");

  auto search = v1::SearchService::NewStub(OwnConnection(server->address()));
  JobSeries jobs(o, search.get(), token);
  if (absl::Status s = jobs.SubmitNext(); !s.ok()) return s;
  std::printf("jobs: random, batch %d, %s, max_trials %d each, the next submitted when one ends\n\n",
              o.batch,
              o.max_mflops > 0 ? absl::StrCat("max_mflops ", o.max_mflops).c_str()
                               : "the default space",
              o.max_trials);

  absl::StatusOr<LoadRun> run = DriveFleet(o, server, &jobs, Fleet(o.fleet, channels, *std::move(ids)));
  if (!run.ok()) return run.status();
  PrintLoadReport(*run, kReportP99TargetMs, kThroughputKeptTarget);
  return jobs.CancelCurrent();
}

struct CallTimes {
  std::vector<double> ms;
  v1::ParetoFront last;
  absl::Status status;
};

CallTimes TimeParetoFront(v1::SearchService::Stub* search, const std::string& token,
                          const std::string& job_id, double bound_ms, int calls,
                          const FilledJob& filled) {
  CallTimes out;
  for (int i = 0; i < calls && out.status.ok(); ++i) {
    v1::GetParetoFrontRequest req;
    req.set_job_id(job_id);
    req.set_max_latency_ms(bound_ms);
    v1::ParetoFront front;
    const Clock::time_point t = Clock::now();
    out.status =
        FromGrpc(search->GetParetoFront(Context(token).get(), req, &front), "GetParetoFront");
    out.ms.push_back(Since(t) * 1000);
    if (out.status.ok()) out.status = CompareFront(front, filled.trials, filled.front, bound_ms);
    out.last = std::move(front);
  }
  return out;
}

// The trials at `indices` as the server would list them.
v1::ParetoFront AsFront(const std::vector<SyntheticTrial>& trials,
                        const std::vector<int>& indices) {
  v1::ParetoFront f;
  for (int i : indices) {
    v1::ParetoPoint* p = f.add_points();
    p->set_candidate_id(trials[i].candidate_id);
    p->set_accuracy(trials[i].accuracy);
    p->set_latency_ms(trials[i].latency_ms);
  }
  return f;
}

// Replaces *server (stopped first) with one serving the filled database.
absl::Status RunParetoPhase(const Options& o, std::unique_ptr<ServerProcess>* server,
                            const std::string& data_dir, const std::string& token) {
  std::printf("== GetParetoFront on a job with %d trials ==\n", o.pareto_trials);
  if (*server) {
    if (absl::Status s = (*server)->Stop(); !s.ok()) return s;
    server->reset();
  }
  absl::StatusOr<FilledJob> filled = FillJobWithTrials(data_dir + "/edgenas.db", o.pareto_trials,
                                                       o.fleet.device_class, o.fleet.seed);
  if (!filled.ok()) return filled.status();
  std::printf(
      "job %s: %d trials written through the store in %.1f s; front %zu points, "
      "hypervolume %.6f\n",
      filled->job_id.c_str(), o.pareto_trials, filled->fill_seconds, filled->front.size(),
      filled->hypervolume);
  const Clock::time_point bf = Clock::now();
  std::vector<int> brute = BruteForceFront(filled->trials, filled->front);
  if (absl::Status s =
          CompareFront(AsFront(filled->trials, brute), filled->trials, filled->front, 0);
      !s.ok())
    return absl::InternalError(
        absl::StrCat("the fill's on_front disagrees with the exhaustive front: ", s.message()));
  std::printf("exhaustive front of the inserted trials: %zu points (%.1f s); on_front agrees\n",
              brute.size(), Since(bf));

  const Clock::time_point restart = Clock::now();
  absl::StatusOr<std::unique_ptr<ServerProcess>> started =
      ServerProcess::Start(o.edgenasd, data_dir, {});
  if (!started.ok()) return started.status();
  *server = *std::move(started);
  std::printf("edgenasd restarted on it in %.2f s\n", Since(restart));
  auto search = v1::SearchService::NewStub(OwnConnection((*server)->address()));
  bool pass = true;
  for (double bound : {0.0, o.pareto_bound_ms}) {
    CallTimes t =
        TimeParetoFront(search.get(), token, filled->job_id, bound, o.pareto_calls, *filled);
    if (!t.status.ok()) return t.status;
    const double first = t.ms.front();
    std::sort(t.ms.begin(), t.ms.end());
    const double median = t.ms[(t.ms.size() - 1) / 2], max = t.ms.back();
    pass = pass && max < kParetoTargetMs;
    std::printf(
        "GetParetoFront %-22s %d calls: median %.2f ms, max %.2f ms (first %.2f ms); %d points, "
        "equal to the exhaustive front%s\n",
        bound > 0 ? absl::StrCat("(max_latency_ms ", bound, "):").c_str() : "(no bound):",
        o.pareto_calls, median, max, first, t.last.points_size(),
        bound > 0 ? " cut at the bound" : "");
    if (bound == 0 && std::abs(t.last.hypervolume() - filled->hypervolume) > 1e-12)
      return absl::InternalError(absl::StrCat("hypervolume: the server says ", t.last.hypervolume(),
                                              ", the fill wrote ", filled->hypervolume));
  }
  if (absl::StatusOr<ProcessMemory> mem = (*server)->Memory(); mem.ok())
    std::printf("server RSS: %.1f MiB (peak %.1f MiB)\n", mem->rss_kb / 1024.0,
                mem->peak_rss_kb / 1024.0);
  std::printf("target GetParetoFront < %.0f ms (every call): %s\n", kParetoTargetMs,
              pass ? "PASS" : "FAIL");
  return absl::OkStatus();
}

absl::Status ParseFlags(int argc, char** argv, Options* o, bool* help) {
  Flags f("coordinator_load [flags]",
          "Load test of edgenasd: a simulated fleet of workers, then (with --pareto-trials) "
          "GetParetoFront\n"
          "on a job with many trials. Prints a report; see tests/bench/coordinator_load.sh.");
  f.String("edgenasd", &o->edgenasd, "the edgenasd binary to start");
  f.Int("workers", &o->workers,
        "simulated workers, half trainers, half latency workers (0: skip phase 1)");
  f.Double("duration-s", &o->duration_s, "how long the fleet runs");
  f.Int("channels", &o->channels, "gRPC connections shared by the workers (0: one each)");
  f.Int("client-threads", &o->fleet.client_threads, "threads driving the fleet");
  f.Int("heartbeat-ms", &o->fleet.heartbeat_ms, "period of every worker's heartbeat");
  f.Int("acquire-wait-ms", &o->fleet.acquire_wait_ms,
        "AcquireTask wait_ms (the server's long poll)");
  f.Int("idle-poll-ms", &o->fleet.idle_poll_ms,
        "after an empty AcquireTask, the next one comes this much later");
  f.Int("work-ms", &o->fleet.work_ms, "pretended work between a task and its report");
  f.Int("batch", &o->batch, "the random strategy's batch");
  f.Double("max-mflops", &o->max_mflops,
           "the search space's bound on millions of multiply-adds (0: the space's default)");
  f.Int("max-trials", &o->max_trials, "each job's trial budget (the next job starts when one ends)");
  f.UInt64("seed", &o->fleet.seed, "seed of the job, the fake results and the synthetic trials");
  f.Int("progress-s", &o->progress_s, "the window of the report's table over time");
  f.Int("pareto-trials", &o->pareto_trials, "phase 2: synthetic trials of the large job (0: skip)");
  f.Int("pareto-calls", &o->pareto_calls, "GetParetoFront calls timed per variant");
  f.Double("pareto-bound-ms", &o->pareto_bound_ms, "max_latency_ms of the bounded variant");
  f.String(
      "data-dir", &o->data_dir,
      "run edgenasd on DIR (created if missing; kept) instead of a fresh directory under /tmp");
  f.Bool("keep-data", &o->keep_data, "keep the data directory (and edgenasd.log) afterwards");
  if (absl::Status s = f.Parse(argc, argv, 1); !s.ok()) return s;
  if (!f.positional().empty())
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", f.positional()[0], "'"));
  *help = f.help_requested();
  if (*help) std::printf("%s", f.Help().c_str());
  if (o->workers < 0 || o->duration_s < 0 || o->fleet.client_threads < 1 ||
      o->fleet.heartbeat_ms < 1 || o->fleet.idle_poll_ms < 0 || o->pareto_trials < 0 ||
      o->pareto_calls < 1 || o->progress_s < 1)
    return absl::InvalidArgumentError("flags: counts and durations must be positive");
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  MutexChecksFollowBuildType();
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines show up in a log as they are printed
  Options o;
  bool help = false;
  if (absl::Status s = ParseFlags(argc, argv, &o, &help); !s.ok()) {
    std::fprintf(stderr, "coordinator_load: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (help) return 0;
  if (!o.data_dir.empty()) {
    o.keep_data = true;
    std::error_code ec;
    std::filesystem::create_directories(o.data_dir, ec);
  }
  absl::StatusOr<std::string> dir = o.data_dir.empty() ? MakeTempDir("edgenas-load") : o.data_dir;
  if (!dir.ok())
    return std::fprintf(stderr, "coordinator_load: %s\n", dir.status().ToString().c_str()), 1;
  absl::Status s = [&]() -> absl::Status {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start(o.edgenasd, *dir, {});
    if (!server.ok()) return server.status();
    absl::StatusOr<std::string> token = ReadFirstLine(*dir + "/admin.token");
    if (!token.ok()) return token.status();
    if (o.workers > 0 && o.duration_s > 0)
      if (absl::Status r = RunLoadPhase(o, server->get(), *dir, *token); !r.ok()) return r;
    if (o.pareto_trials > 0)
      if (absl::Status r = RunParetoPhase(o, &*server, *dir, *token); !r.ok()) return r;
    return (*server)->Stop();
  }();
  if (!s.ok())
    std::fprintf(stderr, "coordinator_load: %s (server log: %s/edgenasd.log)\n",
                 s.ToString().c_str(), dir->c_str());
  if (o.keep_data || !s.ok()) {
    std::printf("data kept in %s\n", dir->c_str());
  } else {
    std::error_code ec;
    std::filesystem::remove_all(*dir, ec);
  }
  return s.ok() ? 0 : 1;
}

}  // namespace
}  // namespace bench
}  // namespace edgenas

int main(int argc, char** argv) { return edgenas::bench::Main(argc, argv); }
