#include "server/jobs/job_tables.h"

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

constexpr char kJobColumns[] =
    "id, name, spec, state, created_ms, started_ms, finished_ms, error, trials_done, "
    "best_reward, hypervolume, front_size";

absl::StatusOr<v1::Job> JobFromRow(const Stmt& st) {
  v1::Job job;
  job.set_id(st.Text(0));
  if (!job.mutable_spec()->ParseFromString(st.Blob(2)))
    return absl::DataLossError(absl::StrCat("job ", job.id(), ": stored spec does not parse"));
  job.set_state(static_cast<v1::JobState>(st.Int(3)));
  job.set_created_at_ms(st.Int(4));
  job.set_started_at_ms(st.Int(5));
  job.set_finished_at_ms(st.Int(6));
  job.set_error(st.Text(7));
  job.set_trials_done(static_cast<int>(st.Int(8)));
  job.set_best_reward(st.Double(9));
  job.set_hypervolume(st.Double(10));
  job.set_front_size(static_cast<int>(st.Int(11)));
  return job;
}

constexpr char kTrialColumns[] =
    "candidate_id, graph_hash, ok, error, val_accuracy, train_seconds, latency_ms, "
    "latency_p90_ms, latency_cv, device_class, params, flops, reward";

v1::TrialResult TrialFromRow(const Stmt& st, int at) {
  v1::TrialResult t;
  t.set_candidate_id(st.Text(at + 0));
  t.set_graph_hash(st.Text(at + 1));
  t.set_status(st.Int(at + 2) ? v1::TRIAL_OK : v1::TRIAL_FAILED);
  t.set_error(st.Text(at + 3));
  t.mutable_train()->set_val_accuracy(st.Double(at + 4));
  t.mutable_train()->set_train_seconds(st.Double(at + 5));
  t.mutable_latency()->set_median_ms(st.Double(at + 6));
  t.mutable_latency()->set_p90_ms(st.Double(at + 7));
  t.mutable_latency()->set_cv(st.Double(at + 8));
  t.mutable_latency()->set_device_class(st.Text(at + 9));
  t.mutable_latency()->set_graph_hash(st.Text(at + 1));
  t.set_params(st.Int(at + 10));
  t.set_flops(st.Int(at + 11));
  t.set_reward(st.Double(at + 12));
  return t;
}

}  // namespace

absl::Status InsertJob(Db& db, const v1::Job& job) {
  absl::StatusOr<Stmt> st = db.Prepare(
      "INSERT INTO jobs (id, name, spec, state, created_ms) VALUES (?, ?, ?, ?, ?)");
  if (!st.ok()) return st.status();
  st->Bind(1, job.id()).Bind(2, job.spec().name()).BindBlob(3, job.spec().SerializeAsString())
      .Bind(4, static_cast<int>(job.state())).Bind(5, job.created_at_ms());
  return st->Run();
}

absl::StatusOr<v1::Job> ReadJob(Db& db, const std::string& job_id) {
  absl::StatusOr<Stmt> st = db.Prepare(absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE id = ?").c_str());
  if (!st.ok()) return st.status();
  st->Bind(1, job_id);
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("job_id: no job '", job_id.substr(0, 100), "'"));
  return JobFromRow(*st);
}

absl::StatusOr<std::vector<v1::Job>> ReadJobs(Db& db, int limit) {
  absl::StatusOr<Stmt> st = db.Prepare(
      absl::StrCat("SELECT ", kJobColumns, " FROM jobs ORDER BY created_ms DESC, id LIMIT ?").c_str());
  if (!st.ok()) return st.status();
  st->Bind(1, limit);
  std::vector<v1::Job> jobs;
  for (;;) {
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    absl::StatusOr<v1::Job> job = JobFromRow(*st);
    if (!job.ok()) return job.status();
    jobs.push_back(*std::move(job));
  }
  return jobs;
}

absl::Status SetJobState(Db& db, const std::string& job_id, v1::JobState state,
                         const std::string& error, int64_t now_ms) {
  const bool running = state == v1::JOB_RUNNING;
  const bool final = state == v1::JOB_SUCCEEDED || state == v1::JOB_FAILED || state == v1::JOB_CANCELLED;
  absl::StatusOr<Stmt> st = db.Prepare(
      "UPDATE jobs SET state = ?, error = ?, "
      "started_ms = CASE WHEN ? AND started_ms = 0 THEN ? ELSE started_ms END, "
      "finished_ms = CASE WHEN ? THEN ? ELSE finished_ms END WHERE id = ?");
  if (!st.ok()) return st.status();
  st->Bind(1, static_cast<int>(state)).Bind(2, error).Bind(3, int64_t{running}).Bind(4, now_ms)
      .Bind(5, int64_t{final}).Bind(6, now_ms).Bind(7, job_id);
  return st->Run();
}

absl::Status SaveCheckpoint(Db& db, const std::string& job_id, const std::string& state_json) {
  absl::StatusOr<Stmt> st = db.Prepare("UPDATE jobs SET checkpoint = ? WHERE id = ?");
  if (!st.ok()) return st.status();
  st->Bind(1, state_json).Bind(2, job_id);
  return st->Run();
}

absl::StatusOr<std::optional<std::string>> LoadCheckpoint(Db& db, const std::string& job_id) {
  absl::StatusOr<Stmt> st = db.Prepare("SELECT checkpoint FROM jobs WHERE id = ?");
  if (!st.ok()) return st.status();
  st->Bind(1, job_id);
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row || st->IsNull(0)) return std::optional<std::string>();
  return std::optional<std::string>(st->Text(0));
}

absl::StatusOr<std::optional<v1::TrialResult>> ReadTrial(Db& db, const std::string& candidate_id) {
  absl::StatusOr<Stmt> st = db.Prepare(
      absl::StrCat("SELECT ", kTrialColumns, " FROM trials WHERE candidate_id = ?").c_str());
  if (!st.ok()) return st.status();
  st->Bind(1, candidate_id);
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<v1::TrialResult>();
  return std::optional<v1::TrialResult>(TrialFromRow(*st, 0));
}

absl::StatusOr<v1::Candidate> ReadCandidate(Db& db, const std::string& candidate_id) {
  absl::StatusOr<Stmt> st = db.Prepare(
      "SELECT id, job_id, graph_hash, graph, created_ms FROM candidates WHERE id = ?");
  if (!st.ok()) return st.status();
  st->Bind(1, candidate_id);
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row)
    return absl::NotFoundError(absl::StrCat("candidate_id: no candidate '", candidate_id.substr(0, 100), "'"));
  v1::Candidate c;
  c.set_id(st->Text(0));
  c.set_job_id(st->Text(1));
  c.set_graph_hash(st->Text(2));
  if (!c.mutable_graph()->ParseFromString(st->Blob(3)))
    return absl::DataLossError(absl::StrCat("candidate ", c.id(), ": stored graph does not parse"));
  c.set_created_at_ms(st->Int(4));
  absl::StatusOr<std::optional<v1::TrialResult>> trial = ReadTrial(db, c.id());
  if (!trial.ok()) return trial.status();
  if (*trial) *c.mutable_result() = **trial;
  return c;
}

absl::StatusOr<std::vector<v1::Candidate>> ReadCandidates(Db& db, const std::string& job_id,
                                                          int limit, int offset) {
  absl::StatusOr<Stmt> st = db.Prepare(
      "SELECT id FROM candidates WHERE job_id = ? ORDER BY seq LIMIT ? OFFSET ?");
  if (!st.ok()) return st.status();
  st->Bind(1, job_id).Bind(2, limit).Bind(3, offset);
  std::vector<std::string> ids;
  for (;;) {
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    ids.push_back(st->Text(0));
  }
  std::vector<v1::Candidate> out;
  for (const std::string& id : ids) {
    absl::StatusOr<v1::Candidate> c = ReadCandidate(db, id);
    if (!c.ok()) return c.status();
    out.push_back(*std::move(c));
  }
  return out;
}

absl::StatusOr<std::vector<v1::ParetoPoint>> ReadFront(Db& db, const std::string& job_id) {
  absl::StatusOr<Stmt> st = db.Prepare(
      "SELECT candidate_id, graph_hash, val_accuracy, latency_ms, params, flops, reward "
      "FROM trials WHERE job_id = ? AND on_front = 1 ORDER BY latency_ms, candidate_id");
  if (!st.ok()) return st.status();
  st->Bind(1, job_id);
  std::vector<v1::ParetoPoint> points;
  for (;;) {
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    v1::ParetoPoint p;
    p.set_candidate_id(st->Text(0));
    p.set_graph_hash(st->Text(1));
    p.set_accuracy(st->Double(2));
    p.set_latency_ms(st->Double(3));
    p.set_params(st->Int(4));
    p.set_flops(st->Int(5));
    p.set_reward(st->Double(6));
    points.push_back(std::move(p));
  }
  return points;
}

}  // namespace edgenas
