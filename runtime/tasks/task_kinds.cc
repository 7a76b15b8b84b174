#include "runtime/tasks/task_kinds.h"

#include "absl/strings/str_cat.h"
#include "runtime/tasks/task_runners.h"

namespace edgenas {
namespace {

using Result = v1::ReportResultRequest;

constexpr TaskKind kKinds[] = {
    {kTrainTask, "training", v1::WORKER_ROLE_TRAINER, Result::kTrain, &RunTrainTask},
    {kMeasureLatencyTask, "latency measurement", v1::WORKER_ROLE_LATENCY, Result::kLatency,
     &RunMeasureTask},
    {kScoreTask, "scoring", v1::WORKER_ROLE_TRAINER, Result::kOutput, &RunScoreTask},
};

}  // namespace

absl::StatusOr<const TaskKind*> FindTaskKind(const std::string& name) {
  for (const TaskKind& k : kKinds)
    if (name == k.name) return &k;
  std::string known;
  for (const TaskKind& k : kKinds) absl::StrAppend(&known, known.empty() ? "" : ", ", k.name);
  return absl::InvalidArgumentError(absl::StrCat("task kind '", name.substr(0, 64),
                                                 "' is not known to this edgenas (known: ", known,
                                                 ")"));
}

std::vector<std::string> TaskKindNames() {
  std::vector<std::string> names;
  for (const TaskKind& k : kKinds) names.push_back(k.name);
  return names;
}

absl::Status RunTask(const v1::Task& task, TaskEnv& env, v1::ReportResultRequest* report) {
  absl::StatusOr<const TaskKind*> kind = FindTaskKind(task.kind());
  if (!kind.ok()) return kind.status();
  return (*kind)->run(task, env, report);
}

}  // namespace edgenas
