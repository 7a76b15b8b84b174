// The tasks table: inserting tasks, and reading the live ones back at
// startup. Inside a Store transaction.
#ifndef EDGENAS_SERVER_TASKS_TASK_ROWS_H_
#define EDGENAS_SERVER_TASKS_TASK_ROWS_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/store/sqlite.h"
#include "server/tasks/task_queue.h"

namespace edgenas {

// A task row as it was enqueued, with its lease state.
struct LiveTask {
  NewTask task;
  TaskState state = TaskState::kQueued;
  int attempt = 0, failures = 0;
  std::string owner;
  std::set<std::string> measured_by;  // workers whose measurement of it is recorded
};

// A kind the registry does not know is InvalidArgument.
absl::Status InsertTasks(Db& db, const std::vector<NewTask>& tasks, int64_t now_ms);
// The queued and leased tasks of pending and running jobs, oldest first,
// each with its graph (parsed once per graph).
absl::StatusOr<std::vector<LiveTask>> ReadLiveTasks(Db& db);

}  // namespace edgenas

#endif  // EDGENAS_SERVER_TASKS_TASK_ROWS_H_
