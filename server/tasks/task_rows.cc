#include "server/tasks/task_rows.h"

#include "absl/strings/str_cat.h"
#include "runtime/tasks/task_kinds.h"

namespace edgenas {

absl::Status InsertTasks(Db& db, const std::vector<NewTask>& tasks, int64_t now_ms) {
  for (const NewTask& t : tasks) {
    if (absl::Status s = FindTaskKind(t.payload.kind()).status(); !s.ok()) return s;
    v1::Task payload = t.payload;
    payload.clear_graph();  // stored once, in graphs
    absl::StatusOr<Stmt> st = db.Query(
        "INSERT INTO tasks (id, job_id, candidate_id, purpose, kind, device_class, graph_hash, "
        "payload, work, state, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        t.id, t.job_id, t.candidate_id, t.purpose, t.payload.kind(), t.device_class, t.graph_hash,
        Blob{payload.SerializeAsString()}, t.work, TaskState::kQueued, now_ms, now_ms);
    if (!st.ok()) return st.status();
    if (t.candidate_id.empty()) st->BindNull(3);
    if (absl::Status s = st->Run(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<LiveTask>> ReadLiveTasks(Db& db) {
  std::vector<LiveTask> out;
  std::map<std::string, std::shared_ptr<const v1::Graph>> graphs;  // each parsed once
  absl::Status s = db.ForEachRow(
      "SELECT t.id, t.job_id, COALESCE(t.candidate_id, ''), t.kind, t.purpose, t.work, "
      "t.device_class, t.graph_hash, t.payload, t.state, t.attempt, t.failures, t.lease_owner, "
      "g.graph FROM tasks t JOIN jobs j ON j.id = t.job_id LEFT JOIN graphs g ON g.hash = "
      "t.graph_hash WHERE t.state IN (?, ?) AND j.state IN (?, ?) ORDER BY t.created_ms, t.id",
      [&](const Stmt& st) -> absl::Status {
        LiveTask live;
        NewTask& t = live.task;
        t.id = st.Text(0);
        t.job_id = st.Text(1);
        t.candidate_id = st.Text(2);
        t.purpose = static_cast<TaskPurpose>(st.Int(4));
        t.work = st.Double(5);
        t.device_class = st.Text(6);
        t.graph_hash = st.Text(7);
        if (!t.payload.ParseFromString(st.Blob(8)))
          return absl::DataLossError(absl::StrCat("task ", t.id, ": payload does not parse"));
        t.payload.set_kind(st.Text(3));
        live.state = static_cast<TaskState>(st.Int(9));
        live.attempt = static_cast<int>(st.Int(10));
        live.failures = static_cast<int>(st.Int(11));
        live.owner = st.Text(12);
        if (t.payload.has_graph()) {  // rows of schema 5 carried their graph
          t.graph = std::make_shared<const v1::Graph>(t.payload.graph());
          t.payload.clear_graph();
        } else if (!st.IsNull(13)) {
          std::shared_ptr<const v1::Graph>& g = graphs[t.graph_hash];
          if (!g) {
            auto parsed = std::make_shared<v1::Graph>();
            if (!parsed->ParseFromString(st.Blob(13)))
              return absl::DataLossError(absl::StrCat("graph ", t.graph_hash, " does not parse"));
            g = std::move(parsed);
          }
          t.graph = g;
        }
        out.push_back(std::move(live));
        return absl::OkStatus();
      },
      TaskState::kQueued, TaskState::kLeased, v1::JOB_PENDING, v1::JOB_RUNNING);
  if (!s.ok()) return s;
  // Whose measurements of each live latency task are already recorded.
  for (LiveTask& live : out) {
    if (live.task.payload.kind() != kMeasureLatencyTask) continue;
    s = db.ForEachRow(
        "SELECT worker_id FROM measurements WHERE task_id = ?",
        [&live](const Stmt& row) {
          live.measured_by.insert(row.Text(0));
          return absl::OkStatus();
        },
        live.task.id);
    if (!s.ok()) return s;
  }
  return out;
}

}  // namespace edgenas
