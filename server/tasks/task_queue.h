// The queue of TRAIN and MEASURE_LATENCY tasks, with leases.
//
// The store is the truth; an in-memory index makes acquiring cheap. A task
// is leased to one worker at a time; heartbeats extend the lease; an expired
// lease goes back to the queue. A result is accepted once, and only from the
// worker that holds the lease for that attempt; the acknowledgement follows
// the COMMIT that records it. A task that fails max_failures times is
// quarantined with its last error instead of being retried forever. The
// in-process workers of edgenasd go through this queue like remote ones.
#ifndef EDGENAS_SERVER_TASKS_TASK_QUEUE_H_
#define EDGENAS_SERVER_TASKS_TASK_QUEUE_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edgenas/v1/services.pb.h"
#include "server/store/store.h"

namespace edgenas {

// How long a task wanting another worker's opinion waits for one before the
// workers that already measured it may take it again.
inline constexpr int64_t kOtherWorkerMs = 20000;

enum class TaskState { kQueued = 0, kLeased = 1, kDone = 2, kQuarantined = 3, kCancelled = 4 };

struct TaskQueueOptions {
  int64_t lease_ms = 60000;  // without a heartbeat, a lease ends after this long
  int max_failures = 3;      // failed attempts (errors or silent workers) before quarantine
  std::vector<std::string> local_workers;  // their leases die with the process
};

// A task to enqueue, written in the same transaction as the candidate it serves.
struct NewTask {
  std::string id, job_id, candidate_id, device_class, graph_hash;
  v1::Task payload;  // task_id, kind, graph and settings; no lease fields
};

// What happened to a task, told to the listener after the commit.
struct TaskOutcome {
  std::string task_id, job_id, candidate_id;
  v1::TaskKind kind = v1::TASK_KIND_UNSPECIFIED;
  TaskState state = TaskState::kDone;  // kDone or kQuarantined
  std::string error;                   // the last error of a quarantined task
};

// How the owner of the domain tables takes a result, inside the transaction
// that marks the task done: kRetry sends the task round again (a latency
// measurement too noisy to keep, say).
enum class ApplyVerdict { kDone, kRetry };
struct TaskRow {
  std::string id, job_id, candidate_id, device_class, graph_hash;
  v1::TaskKind kind;
  int attempt;
};
using ApplyFn = std::function<absl::StatusOr<ApplyVerdict>(Db&, const TaskRow&,
                                                           const v1::ReportResultRequest&)>;

struct ReportVerdict {
  bool accepted = false;
  std::string reason;
};

class TaskQueue {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds since the epoch

  TaskQueue(Store* store, TaskQueueOptions options, Clock clock);

  // Rebuilds the index from the store at startup. Leases of remote workers
  // get a fresh lease_ms of grace; leases of local workers are requeued.
  absl::Status Load();

  void SetApply(ApplyFn apply) { apply_ = std::move(apply); }
  void SetListener(std::function<void(const TaskOutcome&)> listener) {
    listener_ = std::move(listener);
  }

  // Inserts tasks inside the caller's write transaction.
  static absl::Status Insert(Db& db, const std::vector<NewTask>& tasks, int64_t now_ms);
  // Makes committed tasks visible to workers.
  void Publish(const std::vector<NewTask>& tasks);

  // Leases the oldest ready task for a worker of this role (trainers take
  // TRAIN; latency workers take MEASURE_LATENCY of their device class).
  // Persisted before it returns; nullopt when nothing is ready.
  absl::StatusOr<std::optional<v1::Task>> Acquire(const std::string& worker_id, v1::WorkerRole role,
                                                  const std::string& device_class);
  // The same without waiting for the commit: `done` runs after it (on the
  // store's writer thread, or at once when nothing is ready) and must not block.
  using AcquireDone = std::function<void(absl::StatusOr<std::optional<v1::Task>>)>;
  void AcquireAsync(const std::string& worker_id, v1::WorkerRole role,
                    const std::string& device_class, AcquireDone done);
  // A counter that moves whenever tasks may have become ready.
  uint64_t generation();
  // Blocks up to wait_ms for a task to become ready for this role and class.
  bool WaitForWork(v1::WorkerRole role, const std::string& device_class, int64_t wait_ms);
  // True when a task is ready for this role and class.
  bool HasWork(v1::WorkerRole role, const std::string& device_class);

  // Extends the worker's leases on `task_ids`; returns those it no longer holds.
  std::vector<std::string> Heartbeat(const std::string& worker_id,
                                     const std::vector<std::string>& task_ids);

  // Records a result (or an error) for the lease holder's attempt. `done`
  // runs after COMMIT with the verdict.
  void Report(const v1::ReportResultRequest& report,
              std::function<void(absl::StatusOr<ReportVerdict>)> done);
  absl::StatusOr<ReportVerdict> ReportSync(const v1::ReportResultRequest& report);

  // Requeues expired leases. Called periodically.
  void ExpireLeases();
  // Requeues every lease held by `worker_id` (shutdown, revocation).
  void ReleaseWorker(const std::string& worker_id);
  // Requeues one lease of `worker_id`, not counted as a failed attempt: the
  // worker had gone before it heard of the task.
  void ReleaseTask(const std::string& worker_id, const std::string& task_id);
  // Cancels the job's queued and leased tasks.
  void CancelJob(const std::string& job_id);
  // Ends every wait (shutdown).
  void WakeAll();

  struct Counts {
    int queued = 0, leased = 0;
  };
  Counts counts();

 private:
  struct Entry {
    std::string job_id, candidate_id, device_class, graph_hash;
    v1::TaskKind kind = v1::TASK_KIND_UNSPECIFIED;
    TaskState state = TaskState::kQueued;
    int attempt = 0, failures = 0;
    std::string owner;
    int64_t expires_ms = 0;
    bool reporting = false;  // a report for this attempt is being committed
    v1::Task payload;
    // Workers whose measurement of this task is recorded: with replicas > 1
    // the next attempt goes to someone else for a while (kOtherWorkerMs),
    // then to anyone, so a class with too few workers does not stall.
    std::set<std::string> measured_by;
    int64_t requeued_ms = 0;
  };
  using ReadyKey = std::pair<int, std::string>;  // (kind, device class or "")

  static ReadyKey KeyFor(v1::TaskKind kind, const std::string& device_class);
  // Requeues those of `candidates` that are still leased, with no report in flight,
  // and for which `still` holds, all checked under the lock that requeues them.
  void Requeue(const std::vector<std::string>& candidates,
               const std::function<bool(const Entry&)>& still, const char* why,
               bool counts_as_failure);

  Store* store_;
  TaskQueueOptions options_;
  Clock clock_;
  ApplyFn apply_;
  std::function<void(const TaskOutcome&)> listener_;

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::map<std::string, Entry> tasks_;                 // live tasks: queued or leased
  std::map<ReadyKey, std::deque<std::string>> ready_;  // FIFO of queued task ids
  uint64_t wake_generation_ = 0;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_TASKS_TASK_QUEUE_H_
