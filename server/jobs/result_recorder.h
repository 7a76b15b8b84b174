// The task queue's apply hook: a task's accepted result recorded in the
// domain tables, in the transaction that marks the task done. A training
// becomes a training result (keyed by its evaluation key) and a model; a
// final training becomes a winner's final result; a measurement goes to the
// latency judge; a request's output stays with its task, and its work is
// counted against the job's budget.
#ifndef EDGENAS_SERVER_JOBS_RESULT_RECORDER_H_
#define EDGENAS_SERVER_JOBS_RESULT_RECORDER_H_

#include <functional>

#include "absl/status/statusor.h"
#include "edgenas/v1/services.pb.h"
#include "server/latency/latency_judge.h"
#include "server/store/sqlite.h"
#include "server/tasks/task_queue.h"

namespace edgenas {

// A model file in a report is at most this large (the RPC's limit is above it).
inline constexpr size_t kMaxReportedModelBytes = size_t{64} << 20;

// The id of the model a candidate's training made: evaluations with one
// key make one model, whichever job asked.
std::string TrainedModelId(const std::string& eval_key);
// The id of a winner's final model.
std::string FinalModelId(const std::string& candidate_id);

class ResultRecorder {
 public:
  using Clock = std::function<int64_t()>;
  ResultRecorder(const LatencyJudge* judge, Clock clock) : judge_(judge), clock_(std::move(clock)) {}

  // What the queue's ApplyFn does; a report that does not fit its task is
  // InvalidArgument naming the field.
  absl::StatusOr<ApplyVerdict> Apply(Db& db, const TaskRow& row,
                                     const v1::ReportResultRequest& report);

 private:
  absl::Status RecordTraining(Db& db, const TaskRow& row, const v1::ReportResultRequest& report);

  const LatencyJudge* judge_;
  Clock clock_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_RESULT_RECORDER_H_
