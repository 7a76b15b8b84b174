// The registry of task kinds: the work a worker does for the coordinator,
// each an entry here, made by name. edgenas-worker and edgenasd's
// in-process workers both run tasks through RunTask, so a new kind is one
// entry and a remote worker runs it unchanged. A kind this registry does not
// know is refused, never run as another.
//
// Like the strategy registry, an explicit table (task_kinds.cc): static
// self-registration is silently dropped by a static library.
#ifndef EDGENAS_RUNTIME_TASKS_TASK_KINDS_H_
#define EDGENAS_RUNTIME_TASKS_TASK_KINDS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edgenas/v1/services.pb.h"
#include "runtime/tasks/dataset_cache.h"

namespace edgenas {

// Trains task.graph as task.train says (from task.initial_model_id's
// weights when set); reports TrainMetrics and the trained model file.
inline constexpr char kTrainTask[] = "train";
// Measures task.graph's inference latency as task.measure says; reports a
// LatencyMeasurement.
inline constexpr char kMeasureLatencyTask[] = "measure_latency";
// Scores the model task.initial_model_id on the validation split of
// task.train's dataset, without training: output {"accuracy", "loss",
// "images"} as JSON. Payload: empty or {"batch_size": N}.
inline constexpr char kScoreTask[] = "score";

// What a task may use of the machine that runs it.
struct TaskEnv {
  DatasetCache* datasets = nullptr;
  // Polled between batches of long work (lease lost, shutdown).
  std::function<bool()> should_stop;
  // The bytes of the model file task.initial_model_id names.
  std::function<absl::StatusOr<std::string>(const v1::Task& task)> fetch_model;
};

struct TaskKind {
  const char* name;
  const char* work;     // what it does, for messages: "training"
  v1::WorkerRole role;  // which workers take it
  // The result a successful run reports; the coordinator refuses any other.
  v1::ReportResultRequest::ResultCase result;
  // Fills `report`'s result (and model_file) for `task`.
  absl::Status (*run)(const v1::Task& task, TaskEnv& env, v1::ReportResultRequest* report);
};

// The kind called `name`, or InvalidArgument naming it and the known kinds.
absl::StatusOr<const TaskKind*> FindTaskKind(const std::string& name);
std::vector<std::string> TaskKindNames();

// Runs `task` as its kind says and fills `report`'s result; an unknown kind
// is InvalidArgument. Worker id, task id and attempt are the caller's.
absl::Status RunTask(const v1::Task& task, TaskEnv& env, v1::ReportResultRequest* report);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_TASKS_TASK_KINDS_H_
