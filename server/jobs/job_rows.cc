#include "server/jobs/job_rows.h"

#include "absl/strings/str_cat.h"
#include "runtime/util/sha256.h"

namespace edgenas {
namespace {

// Marks the checkpoint format with artifacts; anything else stored in
// jobs.checkpoint is an older edgenas's bare state.
constexpr char kCheckpointFormat[] = "edgenas-checkpoint-2";

constexpr char kJobColumns[] =
    "id, name, spec, state, created_ms, started_ms, finished_ms, error, trials_done, "
    "best_reward, hypervolume, front_size, work_done, phase";

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
  job.set_work_done(st.Double(12));
  job.set_phase(st.Text(13));
  return job;
}

absl::Status Broken(const std::string& job_id, const std::string& what) {
  return absl::DataLossError(absl::StrCat("job ", job_id, ": its checkpoint ", what));
}

}  // namespace

absl::Status InsertJob(Db& db, const v1::Job& job) {
  return db.Run("INSERT INTO jobs (id, name, spec, state, created_ms, phase) VALUES (?, ?, ?, ?, ?, ?)",
                job.id(), job.spec().name(), Blob{job.spec().SerializeAsString()}, job.state(),
                job.created_at_ms(), kSearchPhase);
}

absl::StatusOr<v1::Job> ReadJob(Db& db, const std::string& job_id) {
  absl::StatusOr<Stmt> st =
      db.Query(absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE id = ?").c_str(), job_id);
  if (!st.ok()) return st.status();
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("job_id: no job '", job_id.substr(0, 100), "'"));
  return JobFromRow(*st);
}

absl::StatusOr<std::vector<v1::Job>> ReadJobs(Db& db, int limit) {
  std::vector<v1::Job> jobs;
  absl::Status s = db.ForEachRow(
      absl::StrCat("SELECT ", kJobColumns, " FROM jobs ORDER BY created_ms DESC, id LIMIT ?").c_str(),
      [&](const Stmt& st) {
        absl::StatusOr<v1::Job> job = JobFromRow(st);
        if (!job.ok()) return job.status();
        jobs.push_back(*std::move(job));
        return absl::OkStatus();
      },
      limit);
  if (!s.ok()) return s;
  return jobs;
}

absl::StatusOr<std::vector<std::string>> UnfinishedJobs(Db& db) {
  std::vector<std::string> ids;
  absl::Status s = db.ForEachRow(
      "SELECT id FROM jobs WHERE state IN (?, ?) ORDER BY created_ms",
      [&](const Stmt& st) {
        ids.push_back(st.Text(0));
        return absl::OkStatus();
      },
      v1::JOB_PENDING, v1::JOB_RUNNING);
  if (!s.ok()) return s;
  return ids;
}

absl::Status SetJobState(Db& db, const std::string& job_id, v1::JobState state,
                         const std::string& error, int64_t now_ms) {
  const bool running = state == v1::JOB_RUNNING;
  const bool final = state == v1::JOB_SUCCEEDED || state == v1::JOB_FAILED || state == v1::JOB_CANCELLED;
  return db.Run(
      "UPDATE jobs SET state = ?, error = ?, "
      "started_ms = CASE WHEN ? AND started_ms = 0 THEN ? ELSE started_ms END, "
      "finished_ms = CASE WHEN ? THEN ? ELSE finished_ms END WHERE id = ?",
      state, error, running, now_ms, final, now_ms, job_id);
}

absl::Status SetJobPhase(Db& db, const std::string& job_id, const std::string& phase) {
  return db.Run("UPDATE jobs SET phase = ? WHERE id = ?", phase, job_id);
}

absl::Status AddJobWork(Db& db, const std::string& job_id, double work) {
  return db.Run("UPDATE jobs SET work_done = work_done + ? WHERE id = ?", work, job_id);
}

absl::Status SaveCheckpoint(Db& db, const std::string& job_id, const StrategyCheckpoint& c) {
  nlohmann::json manifest = nlohmann::json::object();
  for (const auto& [name, bytes] : c.artifacts)
    manifest[name] = {{"bytes", bytes.size()}, {"sha256", Sha256Hex(bytes)}};
  const nlohmann::json stored = {
      {"format", kCheckpointFormat}, {"state", c.state}, {"artifacts", manifest}};
  if (absl::Status s = db.Run("UPDATE jobs SET checkpoint = ? WHERE id = ?", stored.dump(), job_id);
      !s.ok())
    return s;
  if (db.Changes() != 1) return absl::NotFoundError(absl::StrCat("job_id: no job '", job_id, "'"));
  if (absl::Status s = db.Run("DELETE FROM artifacts WHERE job_id = ?", job_id); !s.ok()) return s;
  for (const auto& [name, bytes] : c.artifacts) {
    if (absl::Status s = db.Run("INSERT INTO artifacts (job_id, name, bytes) VALUES (?, ?, ?)",
                                job_id, name, Blob{bytes});
        !s.ok())
      return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<StrategyCheckpoint>> LoadCheckpoint(Db& db, const std::string& job_id) {
  absl::StatusOr<Stmt> st = db.Query("SELECT checkpoint FROM jobs WHERE id = ?", job_id);
  if (!st.ok()) return st.status();
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("job_id: no job '", job_id, "'"));
  if (st->IsNull(0)) return std::optional<StrategyCheckpoint>();
  nlohmann::json stored = nlohmann::json::parse(st->Text(0), nullptr, /*allow_exceptions=*/false);
  if (stored.is_discarded()) return Broken(job_id, "is not JSON");
  StrategyCheckpoint c;
  if (!stored.is_object() || stored.value("format", "") != kCheckpointFormat) {
    c.state = std::move(stored);  // an older edgenas's: the state alone
    return std::optional<StrategyCheckpoint>(std::move(c));
  }
  if (!stored.contains("state") || !stored.contains("artifacts") || !stored["artifacts"].is_object())
    return Broken(job_id, "lacks its state or its list of artifacts");
  c.state = stored["state"];
  for (const auto& [name, want] : stored["artifacts"].items()) {
    absl::StatusOr<Stmt> a =
        db.Query("SELECT bytes FROM artifacts WHERE job_id = ? AND name = ?", job_id, name);
    if (!a.ok()) return a.status();
    absl::StatusOr<bool> found = a->Step();
    if (!found.ok()) return found.status();
    if (!*found) return Broken(job_id, absl::StrCat("lists artifact '", name, "', which is missing"));
    std::string bytes = a->Blob(0);
    if (!want.is_object() || want.value("bytes", int64_t{-1}) != static_cast<int64_t>(bytes.size()) ||
        want.value("sha256", "") != Sha256Hex(bytes))
      return Broken(job_id, absl::StrCat("artifact '", name, "' is not the one it lists"));
    c.artifacts[name] = std::move(bytes);
  }
  return std::optional<StrategyCheckpoint>(std::move(c));
}

}  // namespace edgenas
