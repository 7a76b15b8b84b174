#include "server/jobs/candidate_rows.h"

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

constexpr char kTrialColumns[] =
    "candidate_id, graph_hash, ok, error, val_accuracy, train_seconds, latency_ms, "
    "latency_p90_ms, latency_cv, device_class, params, flops, reward, model_id, initial_loss";

v1::TrialResult TrialFromRow(const Stmt& st) {
  v1::TrialResult t;
  t.set_candidate_id(st.Text(0));
  t.set_graph_hash(st.Text(1));
  t.set_status(st.Int(2) ? v1::TRIAL_OK : v1::TRIAL_FAILED);
  t.set_error(st.Text(3));
  t.mutable_train()->set_val_accuracy(st.Double(4));
  t.mutable_train()->set_train_seconds(st.Double(5));
  t.mutable_latency()->set_median_ms(st.Double(6));
  t.mutable_latency()->set_p90_ms(st.Double(7));
  t.mutable_latency()->set_cv(st.Double(8));
  t.mutable_latency()->set_device_class(st.Text(9));
  t.mutable_latency()->set_graph_hash(st.Text(1));
  t.set_params(st.Int(10));
  t.set_flops(st.Int(11));
  t.set_reward(st.Double(12));
  t.set_model_id(st.Text(13));
  t.mutable_train()->set_initial_loss(st.Double(14));
  return t;
}

}  // namespace

absl::Status InsertGraph(Db& db, const std::string& hash, const v1::Graph& graph) {
  return db.Run("INSERT OR IGNORE INTO graphs (hash, graph) VALUES (?, ?)", hash,
                Blob{graph.SerializeAsString()});
}

absl::StatusOr<v1::Graph> ReadGraph(Db& db, const std::string& hash) {
  absl::StatusOr<Stmt> st = db.Query("SELECT graph FROM graphs WHERE hash = ?", hash);
  if (!st.ok()) return st.status();
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("graph ", hash, " is not stored"));
  v1::Graph g;
  if (!g.ParseFromString(st->Blob(0)))
    return absl::DataLossError(absl::StrCat("graph ", hash, ": stored graph does not parse"));
  return g;
}

absl::Status InsertCandidate(Db& db, const CandidateRow& c) {
  return db.Run(
      "INSERT OR IGNORE INTO candidates (id, job_id, seq, graph_hash, eval_key, initial_model_id, "
      "parent_model_id, training, created_ms) VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 "
      "FROM candidates WHERE job_id = ?), ?, ?, ?, ?, ?, ?)",
      c.id, c.job_id, c.job_id, c.graph_hash, c.eval_key, c.initial_model_id, c.parent_model_id,
      Blob{c.training.SerializeAsString()}, c.created_ms);
}

absl::StatusOr<CandidateRow> ReadCandidateRow(Db& db, const std::string& candidate_id) {
  absl::StatusOr<Stmt> st = db.Query(
      "SELECT id, job_id, seq, graph_hash, eval_key, initial_model_id, parent_model_id, training, "
      "created_ms FROM candidates WHERE id = ?",
      candidate_id);
  if (!st.ok()) return st.status();
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row)
    return absl::NotFoundError(
        absl::StrCat("candidate_id: no candidate '", candidate_id.substr(0, 100), "'"));
  CandidateRow c;
  c.id = st->Text(0);
  c.job_id = st->Text(1);
  c.seq = st->Int(2);
  c.graph_hash = st->Text(3);
  c.eval_key = st->Text(4);
  c.initial_model_id = st->Text(5);
  c.parent_model_id = st->Text(6);
  if (!c.training.ParseFromString(st->Blob(7)))
    return absl::DataLossError(absl::StrCat("candidate ", c.id, ": training does not parse"));
  c.created_ms = st->Int(8);
  return c;
}

absl::StatusOr<std::optional<v1::TrialResult>> ReadTrial(Db& db, const std::string& candidate_id) {
  absl::StatusOr<Stmt> st = db.Query(
      absl::StrCat("SELECT ", kTrialColumns, " FROM trials WHERE candidate_id = ?").c_str(),
      candidate_id);
  if (!st.ok()) return st.status();
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<v1::TrialResult>();
  return std::optional<v1::TrialResult>(TrialFromRow(*st));
}

absl::StatusOr<v1::Candidate> ReadCandidate(Db& db, const std::string& candidate_id) {
  absl::StatusOr<CandidateRow> row = ReadCandidateRow(db, candidate_id);
  if (!row.ok()) return row.status();
  v1::Candidate c;
  c.set_id(row->id);
  c.set_job_id(row->job_id);
  c.set_graph_hash(row->graph_hash);
  c.set_created_at_ms(row->created_ms);
  absl::StatusOr<v1::Graph> graph = ReadGraph(db, row->graph_hash);
  if (!graph.ok()) return graph.status();
  *c.mutable_graph() = *std::move(graph);
  absl::StatusOr<std::optional<v1::TrialResult>> trial = ReadTrial(db, c.id());
  if (!trial.ok()) return trial.status();
  if (*trial) *c.mutable_result() = **trial;
  return c;
}

absl::StatusOr<std::vector<v1::Candidate>> ReadCandidates(Db& db, const std::string& job_id,
                                                          int limit, int offset) {
  std::vector<std::string> ids;
  absl::Status s = db.ForEachRow(
      "SELECT id FROM candidates WHERE job_id = ? ORDER BY seq LIMIT ? OFFSET ?",
      [&](const Stmt& st) {
        ids.push_back(st.Text(0));
        return absl::OkStatus();
      },
      job_id, limit, offset);
  if (!s.ok()) return s;
  std::vector<v1::Candidate> out;
  for (const std::string& id : ids) {
    absl::StatusOr<v1::Candidate> c = ReadCandidate(db, id);
    if (!c.ok()) return c.status();
    out.push_back(*std::move(c));
  }
  return out;
}

absl::Status InsertModel(Db& db, const std::string& id, const char* kind,
                         const std::string& graph_hash, const std::string& job_id,
                         const std::string& bytes, int64_t now_ms) {
  return db.Run(
      "INSERT OR IGNORE INTO models (id, kind, graph_hash, job_id, bytes, created_ms) "
      "VALUES (?, ?, ?, ?, ?, ?)",
      id, kind, graph_hash, job_id, Blob{bytes}, now_ms);
}

absl::StatusOr<std::string> ReadModelBytes(Db& db, const std::string& model_id) {
  absl::StatusOr<Stmt> st = db.Query("SELECT bytes FROM models WHERE id = ?", model_id);
  if (!st.ok()) return st.status();
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row)
    return absl::NotFoundError(absl::StrCat("model_id: no model '", model_id.substr(0, 100), "'"));
  return st->Blob(0);
}

absl::Status UpsertFinalResult(Db& db, const FinalResult& r, int64_t now_ms) {
  return db.Run(
      "INSERT OR REPLACE INTO final_models (candidate_id, job_id, ok, error, model_id, "
      "test_accuracy, epochs, train_seconds, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      r.candidate_id, r.job_id, r.ok, r.error, r.model_id, r.test_accuracy, r.epochs,
      r.train_seconds, now_ms);
}

absl::StatusOr<std::vector<FinalResult>> ReadFinalResults(Db& db, const std::string& job_id) {
  std::vector<FinalResult> out;
  absl::Status s = db.ForEachRow(
      "SELECT candidate_id, ok, error, model_id, test_accuracy, epochs, train_seconds "
      "FROM final_models WHERE job_id = ? ORDER BY created_ms, candidate_id",
      [&](const Stmt& st) {
        FinalResult r;
        r.candidate_id = st.Text(0);
        r.job_id = job_id;
        r.ok = st.Int(1) != 0;
        r.error = st.Text(2);
        r.model_id = st.Text(3);
        r.test_accuracy = st.Double(4);
        r.epochs = static_cast<int>(st.Int(5));
        r.train_seconds = st.Double(6);
        out.push_back(std::move(r));
        return absl::OkStatus();
      },
      job_id);
  if (!s.ok()) return s;
  return out;
}

}  // namespace edgenas
