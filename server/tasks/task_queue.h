// The queue of tasks, with leases: tasks of the runtime's registered kinds
// (runtime/tasks/task_kinds.h), taken by the workers of the role each kind
// names (trainers take any trainer kind; latency workers the latency kinds
// of their device class).
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
#include <memory>
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

// What a task is for, which says who hears of its outcome: a candidate's
// trial, a strategy's own request (SearchContext::Submit), or the final
// training of a winner.
enum class TaskPurpose { kTrial = 0, kRequest = 1, kFinal = 2 };

struct TaskQueueOptions {
  int64_t lease_ms = 60000;  // without a heartbeat, a lease ends after this long
  int max_failures = 3;      // failed attempts (errors or silent workers) before quarantine
  std::vector<std::string> local_workers;  // their leases die with the process
};

// A task to enqueue, written in the same transaction as what it serves. Its
// graph is stored once, in the graphs table, by whoever stores the
// candidate; the queue attaches it to the task a worker gets.
struct NewTask {
  std::string id, job_id;
  std::string candidate_id;  // "" for a strategy's own request
  TaskPurpose purpose = TaskPurpose::kTrial;
  std::string device_class;  // latency kinds: the class that measures it
  std::string graph_hash;    // "" for kinds without a graph
  double work = 0;           // what it spends of the job's budget, in trial-equivalents
  v1::Task payload;          // kind and settings; no lease fields, no graph
  std::shared_ptr<const v1::Graph> graph;
};

// What happened to a task, told to the listener after the commit.
struct TaskOutcome {
  std::string task_id, job_id, candidate_id;
  std::string kind;
  TaskPurpose purpose = TaskPurpose::kTrial;
  TaskState state = TaskState::kDone;  // kDone or kQuarantined
  std::string error;                   // the last error of a quarantined task
};

// How the owner of the domain tables takes a result, inside the transaction
// that marks the task done: kRetry sends the task round again (a latency
// measurement too noisy to keep, say).
enum class ApplyVerdict { kDone, kRetry };
struct TaskRow {
  std::string id, job_id, candidate_id, device_class, graph_hash;
  std::string kind;
  TaskPurpose purpose;
  int attempt;
  double work;
  v1::Task payload;  // as enqueued
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

  // Inserts tasks inside the caller's write transaction. A kind the
  // registry does not know is InvalidArgument.
  static absl::Status Insert(Db& db, const std::vector<NewTask>& tasks, int64_t now_ms);
  // Makes committed tasks visible to workers.
  void Publish(const std::vector<NewTask>& tasks);

  // Leases the oldest ready task for a worker of this role (trainers take
  // trainer kinds; latency workers the latency kinds of their device
  // class), its graph attached. Persisted before it returns; nullopt when
  // nothing is ready.
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

  // The task `worker_id` holds the lease of, as enqueued (its
  // initial_model_id says which model it may fetch); PermissionDenied when
  // the worker holds no such lease.
  absl::StatusOr<v1::Task> Leased(const std::string& worker_id, const std::string& task_id);

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
    std::string kind;
    v1::WorkerRole role = v1::WORKER_ROLE_UNSPECIFIED;
    TaskPurpose purpose = TaskPurpose::kTrial;
    double work = 0;
    TaskState state = TaskState::kQueued;
    int attempt = 0, failures = 0;
    std::string owner;
    int64_t expires_ms = 0;
    bool reporting = false;  // a report for this attempt is being committed
    v1::Task payload;
    std::shared_ptr<const v1::Graph> graph;
    // Workers whose measurement of this task is recorded: with replicas > 1
    // the next attempt goes to someone else for a while (kOtherWorkerMs),
    // then to anyone, so a class with too few workers does not stall.
    std::set<std::string> measured_by;
    int64_t requeued_ms = 0;
  };
  using ReadyKey = std::pair<int, std::string>;  // (role, device class or "")

  static ReadyKey KeyFor(v1::WorkerRole role, const std::string& device_class);
  static Entry EntryOf(const NewTask& task);
  TaskOutcome OutcomeOf(const std::string& id, const Entry& e, TaskState state,
                        const std::string& error) const;
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
