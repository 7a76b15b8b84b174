#include "server/jobs/final_training.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/tasks/task_kinds.h"
#include "search/api/task_payloads.h"
#include "server/jobs/candidate_rows.h"
#include "server/jobs/job_rows.h"
#include "server/jobs/pareto_book.h"
#include "server/spec/search_settings.h"

namespace edgenas {
namespace {

// How often a waiting stage looks at its stop condition.
constexpr std::chrono::milliseconds kPollSlice(100);

std::string FinalTaskId(const std::string& candidate_id) {
  return absl::StrCat(candidate_id, "-final");
}

// The task that retrains `winner`, or nullopt when its result is already
// stored; a task already in flight is not enqueued again (*exists).
absl::StatusOr<std::optional<NewTask>> TaskFor(Db& db, const std::string& job_id,
                                               const v1::ParetoPoint& winner,
                                               const SearchSettings& whole_split,
                                               const TrainingSettings& training, bool* exists) {
  absl::StatusOr<std::optional<int64_t>> done =
      db.QueryInt("SELECT 1 FROM final_models WHERE candidate_id = ?", winner.candidate_id());
  if (!done.ok()) return done.status();
  if (done->has_value()) return std::optional<NewTask>();
  absl::StatusOr<Stmt> st =
      db.Query("SELECT state, last_error FROM tasks WHERE id = ?", FinalTaskId(winner.candidate_id()));
  if (!st.ok()) return st.status();
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  *exists = *row;
  if (*exists) {
    const auto state = static_cast<TaskState>(st->Int(0));
    switch (state) {
      case TaskState::kQueued:
      case TaskState::kLeased:
        break;  // in flight: wait for it
      case TaskState::kDone:  // recorded with its result; nothing left to do
      case TaskState::kQuarantined:
      case TaskState::kCancelled: {
        // Given up on before its failure was written (a crash between the two).
        FinalResult failed;
        failed.candidate_id = winner.candidate_id();
        failed.job_id = job_id;
        failed.error = state == TaskState::kDone ? "its result was lost" : st->Text(1);
        if (absl::Status s = UpsertFinalResult(db, failed, 0); !s.ok()) return s;
        return std::optional<NewTask>();
      }
    }
  }
  absl::StatusOr<v1::Graph> graph = ReadGraph(db, winner.graph_hash());
  if (!graph.ok()) return graph.status();
  NewTask t;
  t.id = FinalTaskId(winner.candidate_id());
  t.job_id = job_id;
  t.candidate_id = winner.candidate_id();
  t.purpose = TaskPurpose::kFinal;
  t.graph_hash = winner.graph_hash();
  t.payload = MakeTrainTask(whole_split, training, *graph, winner.graph_hash(), "");
  t.payload.mutable_train()->set_evaluate_test(true);
  t.payload.clear_graph();
  t.graph = std::make_shared<const v1::Graph>(*std::move(graph));
  return std::optional<NewTask>(std::move(t));
}

}  // namespace

std::vector<v1::ParetoPoint> FinalTrainingWinners(std::vector<v1::ParetoPoint> front,
                                                  double target_latency_ms, int count) {
  std::vector<v1::ParetoPoint> within;
  for (v1::ParetoPoint& p : front)
    if (p.latency_ms() <= target_latency_ms) within.push_back(std::move(p));
  std::stable_sort(within.begin(), within.end(), [](const auto& a, const auto& b) {
    return a.accuracy() > b.accuracy();
  });
  if (static_cast<int>(within.size()) > count) within.resize(count);
  return within;
}

absl::Status RunFinalTraining(const JobServices& s, const std::string& job_id,
                              const v1::JobSpec& spec, const SearchSettings& settings,
                              const std::function<bool()>& should_stop) {
  const int count = spec.final_training().winners();
  if (count <= 0) return absl::OkStatus();
  // The whole training split: nothing held out, nothing subsampled.
  SearchSettings whole_split = settings;
  whole_split.dataset.validation_fraction = 0;
  whole_split.dataset.max_train_images = 0;
  const TrainingSettings training = FinalTrainingSettings(spec.final_training());

  std::vector<v1::ParetoPoint> winners;
  std::vector<NewTask> tasks, fresh;
  absl::Status st = s.store->Write([&](Db& db) -> absl::Status {
    tasks.clear();
    fresh.clear();
    if (absl::Status r = SetJobPhase(db, job_id, kFinalTrainingPhase); !r.ok()) return r;
    absl::StatusOr<std::vector<v1::ParetoPoint>> front = ParetoBook::Read(db, job_id);
    if (!front.ok()) return front.status();
    winners = FinalTrainingWinners(*std::move(front), settings.mnas.target_ms, count);
    for (const v1::ParetoPoint& w : winners) {
      bool exists = false;
      absl::StatusOr<std::optional<NewTask>> t = TaskFor(db, job_id, w, whole_split, training, &exists);
      if (!t.ok()) return t.status();
      if (!*t) continue;
      if (!exists) fresh.push_back(**t);
      tasks.push_back(**std::move(t));
    }
    return TaskQueue::Insert(db, fresh, s.clock());
  });
  if (!st.ok()) return st;
  if (winners.empty()) {
    s.progress->Publish(job_id, "final training: no point of the front is within the latency target",
                        nullptr);
    return absl::OkStatus();
  }
  // Waiters before the tasks become visible, so no outcome is missed.
  std::vector<std::shared_future<TaskResult>> futures;
  for (const NewTask& t : tasks) futures.push_back(s.waiters->ExpectTask(job_id, t.id));
  s.tasks->Publish(fresh);
  s.progress->Publish(job_id,
                      absl::StrCat("final training: ", tasks.size(), " of ", winners.size(),
                                   " winner(s) to train on the whole training split"),
                      nullptr);
  for (size_t i = 0; i < futures.size(); ++i) {
    while (futures[i].wait_for(kPollSlice) != std::future_status::ready) {
      if (should_stop()) return absl::OkStatus();
    }
    const TaskResult r = futures[i].get();
    s.progress->Publish(job_id,
                        r.ok ? absl::StrCat("final training of ", tasks[i].candidate_id, " done")
                             : absl::StrCat("final training of ", tasks[i].candidate_id,
                                            " failed: ", r.error),
                        nullptr);
  }
  return absl::OkStatus();
}

}  // namespace edgenas
