// Internal to runtime/tasks: the run function of each registered kind (see
// task_kinds.h for what each does).
#ifndef EDGENAS_RUNTIME_TASKS_TASK_RUNNERS_H_
#define EDGENAS_RUNTIME_TASKS_TASK_RUNNERS_H_

#include "absl/status/statusor.h"
#include "edgenas/v1/services.pb.h"
#include "runtime/model_file/model_file.h"
#include "runtime/tasks/task_kinds.h"

namespace edgenas {

absl::Status RunTrainTask(const v1::Task& task, TaskEnv& env, v1::ReportResultRequest* report);
absl::Status RunMeasureTask(const v1::Task& task, TaskEnv& env, v1::ReportResultRequest* report);
absl::Status RunScoreTask(const v1::Task& task, TaskEnv& env, v1::ReportResultRequest* report);

// The task's dataset splits (task.train names them).
absl::StatusOr<std::shared_ptr<const DatasetSplits>> TaskDataset(const v1::Task& task,
                                                                TaskEnv& env);
// The model task.initial_model_id names, checked to be a model of task.graph.
absl::StatusOr<Model> TaskInitialModel(const v1::Task& task, TaskEnv& env);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_TASKS_TASK_RUNNERS_H_
