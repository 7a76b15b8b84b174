#include "server/jobs/result_recorder.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/model_file/model_file.h"
#include "server/jobs/candidate_rows.h"
#include "server/jobs/job_rows.h"

namespace edgenas {

std::string TrainedModelId(const std::string& eval_key) { return absl::StrCat("model-", eval_key); }

std::string FinalModelId(const std::string& candidate_id) {
  return absl::StrCat("final-", candidate_id);
}

absl::Status ResultRecorder::RecordTraining(Db& db, const TaskRow& row,
                                            const v1::ReportResultRequest& report) {
  const v1::TrainMetrics& m = report.train();
  if (!(m.val_accuracy() >= 0 && m.val_accuracy() <= 1))
    return absl::InvalidArgumentError("train.val_accuracy: must be in [0, 1]");
  if (!std::isfinite(m.initial_loss()) || !std::isfinite(m.train_loss()) ||
      !std::isfinite(m.train_seconds()))
    return absl::InvalidArgumentError("train: losses and seconds must be finite");
  // Every trainer of ours sends its model; a report without one (a load
  // generator's) is a result with no model to download.
  const bool has_model = !report.model_file().empty();
  if (has_model) {
    if (report.model_file().size() > kMaxReportedModelBytes)
      return absl::InvalidArgumentError("model_file: larger than 64 MiB");
    absl::StatusOr<Model> model = ParseModel(report.model_file());
    if (!model.ok())
      return absl::InvalidArgumentError(absl::StrCat("model_file: ", model.status().message()));
    absl::StatusOr<std::string> hash = CanonicalHash(model->graph);
    if (!hash.ok() || *hash != row.graph_hash)
      return absl::InvalidArgumentError("model_file: its graph is not the task's graph");
  }
  const int64_t now = clock_();
  switch (row.purpose) {
    case TaskPurpose::kTrial: {
      absl::StatusOr<CandidateRow> cand = ReadCandidateRow(db, row.candidate_id);
      if (!cand.ok()) return cand.status();
      const std::string model_id = has_model ? TrainedModelId(cand->eval_key) : "";
      if (has_model) {
        if (absl::Status s = InsertModel(db, model_id, kTrainedModel, row.graph_hash, row.job_id,
                                         report.model_file(), now);
            !s.ok())
          return s;
      }
      return db.Run(
          "INSERT OR REPLACE INTO train_results (eval_key, graph_hash, val_accuracy, train_loss, "
          "initial_loss, train_seconds, images_per_second, model_id, worker_id, created_ms) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          cand->eval_key, row.graph_hash, m.val_accuracy(), m.train_loss(), m.initial_loss(),
          m.train_seconds(), m.images_per_second(), model_id, report.worker_id(), now);
    }
    case TaskPurpose::kFinal: {
      if (!has_model)
        return absl::InvalidArgumentError("model_file: a final training must send its model");
      const std::string model_id = FinalModelId(row.candidate_id);
      if (absl::Status s = InsertModel(db, model_id, kFinalModel, row.graph_hash, row.job_id,
                                       report.model_file(), now);
          !s.ok())
        return s;
      FinalResult r;
      r.candidate_id = row.candidate_id;
      r.job_id = row.job_id;
      r.ok = true;
      r.model_id = model_id;
      r.test_accuracy = m.test_accuracy();
      r.epochs = m.epochs();
      r.train_seconds = m.train_seconds();
      return UpsertFinalResult(db, r, now);
    }
    case TaskPurpose::kRequest:
      return absl::InvalidArgumentError("train: a strategy's own task does not train candidates");
  }
  return absl::InvalidArgumentError("task: unknown purpose");
}

absl::StatusOr<ApplyVerdict> ResultRecorder::Apply(Db& db, const TaskRow& row,
                                                   const v1::ReportResultRequest& report) {
  ApplyVerdict verdict = ApplyVerdict::kDone;
  switch (report.result_case()) {
    case v1::ReportResultRequest::kTrain:
      if (absl::Status s = RecordTraining(db, row, report); !s.ok()) return s;
      break;
    case v1::ReportResultRequest::kLatency: {
      absl::StatusOr<ApplyVerdict> v = judge_->Record(db, row, report, clock_());
      if (!v.ok()) return v.status();
      verdict = *v;
      break;
    }
    case v1::ReportResultRequest::kOutput:
      // The output stays with the task (tasks.result); what it cost is spent.
      if (row.purpose != TaskPurpose::kRequest)
        return absl::InvalidArgumentError("output: only a strategy's own task reports one");
      if (absl::Status s = AddJobWork(db, row.job_id, row.work); !s.ok()) return s;
      break;
    case v1::ReportResultRequest::kError:
    case v1::ReportResultRequest::RESULT_NOT_SET:
      return absl::InvalidArgumentError("result: none to record");
  }
  if (verdict == ApplyVerdict::kDone) {
    if (absl::Status s =
            db.Run("UPDATE workers SET tasks_done = tasks_done + 1 WHERE id = ?", report.worker_id());
        !s.ok())
      return s;
  }
  return verdict;
}

}  // namespace edgenas
