// Jobs: submission, one runner thread per running job (its SearchStrategy
// with a SearchContext backed by the store and the task queue), results
// assembled into trials, the Pareto front kept up to date, progress events,
// cancellation, and resumption after a restart.
#ifndef EDGENAS_SERVER_JOBS_JOB_MANAGER_H_
#define EDGENAS_SERVER_JOBS_JOB_MANAGER_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "edgenas/v1/job.pb.h"
#include "edgenas/v1/results.pb.h"
#include "search/api/search_context.h"
#include "server/jobs/latency_models.h"
#include "server/jobs/redundancy.h"
#include "server/store/store.h"
#include "server/tasks/task_queue.h"

namespace edgenas {

struct JobManagerOptions {
  double max_latency_cv = 0.10;  // a noisier measurement is taken again ...
  int max_measurements = 3;      // ... up to this many times per graph and class
  int latency_refit_every = 16;  // measurements with kernels between refits of a class's predictor
  std::map<std::string, RedundancyPolicy> redundancy;  // per device class; default: one worker
};

class JobManager {
 public:
  using Clock = std::function<int64_t()>;
  using Listener = std::function<void(const v1::ProgressEvent&)>;

  JobManager(Store* store, TaskQueue* tasks, JobManagerOptions options, Clock clock);
  ~JobManager();

  // Takes results from the task queue (install before work starts).
  void Attach();
  // Restarts every job that was running (or pending) when the service stopped.
  absl::Status ResumeAll();
  // Stops every runner (jobs stay RUNNING, to resume) and joins them.
  void Shutdown();

  // `spec` must have passed ValidateJobSpec. Stores the job, then starts it.
  absl::StatusOr<std::string> Submit(const v1::JobSpec& spec);
  absl::StatusOr<v1::Job> Get(const std::string& job_id);
  absl::StatusOr<std::vector<v1::Job>> List(int limit);
  absl::StatusOr<v1::Job> Cancel(const std::string& job_id);

  // Progress events of one job; the listener must not block.
  int Subscribe(const std::string& job_id, Listener listener);
  void Unsubscribe(int subscription);
  absl::StatusOr<v1::ProgressEvent> Snapshot(const std::string& job_id);

  absl::StatusOr<v1::ParetoFront> ParetoFront(const std::string& job_id, const std::string& device_class,
                                              double max_latency_ms);
  absl::StatusOr<v1::Candidate> GetCandidate(const std::string& candidate_id);
  absl::StatusOr<std::vector<v1::Candidate>> ListCandidates(const std::string& job_id, int limit,
                                                            int offset);
  absl::StatusOr<std::string> ModelFile(const std::string& candidate_id);

  const RedundancyPolicy& Policy(const std::string& device_class) const;
  // Periodic work: measurement tasks for trials being checked again.
  void Housekeep();

  // The task queue's apply hook: records a task's result in the domain tables.
  absl::StatusOr<ApplyVerdict> Apply(Db& db, const TaskRow& row, const v1::ReportResultRequest& report);

 private:
  friend class StoreSearchContext;
  struct Pending {
    std::promise<TrialResult> promise;
    std::shared_future<TrialResult> future;
    std::string job_id;
  };
  struct Runner {
    std::thread thread;
    std::atomic<bool> cancelled{false};
    std::atomic<bool> finished{false};
  };

  void StartRunner(const std::string& job_id);
  void RunJob(const std::string& job_id, Runner* runner);
  void OnTaskOutcome(const TaskOutcome& outcome);
  // Builds the trial of a candidate whose tasks are all finished, in `db`.
  // Returns nullopt while something is still outstanding.
  absl::StatusOr<std::optional<TrialResult>> Assemble(Db& db, const std::string& candidate_id);
  // Redundancy for one graph on a class with replicas > 1: the verdict, and
  // agreements, disagreements and flags written in `db`.
  absl::StatusOr<ApplyVerdict> Reconcile(Db& db, const TaskRow& row, const RedundancyPolicy& policy);
  // The latency of a graph on a class from workers in good standing, or
  // nullopt; `p90` and `cv` from the measurement nearest to it.
  absl::StatusOr<std::optional<v1::LatencyMeasurement>> SettledLatency(Db& db, const std::string& hash,
                                                                      const std::string& device_class);
  // Recomputes the job's front, its size and hypervolume from its trials.
  absl::Status RecomputeFront(Db& db, const std::string& job_id);
  // Assembles every candidate queued by OnTaskOutcome, in one transaction.
  void AssembleQueued();
  void Resolve(const std::string& candidate_id, const TrialResult& result);
  void Publish(const std::string& job_id, const std::string& message, const TrialResult* last);
  bool stopping() const { return stopping_.load(); }
  // Runs `fn` on the events thread: never on the store's writer thread,
  // which must not wait for its own writes.
  void Post(std::function<void()> fn);
  void EventsLoop();

  Store* store_;
  TaskQueue* tasks_;
  JobManagerOptions options_;
  Clock clock_;
  LatencyModels latency_models_{options_.latency_refit_every};
  std::atomic<bool> stopping_{false};

  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Runner>> runners_;
  std::map<std::string, std::shared_ptr<Pending>> pending_;  // by candidate id
  std::set<std::string> to_assemble_;                        // told done, not yet assembled
  std::map<int, std::pair<std::string, Listener>> listeners_;
  int next_listener_ = 1;

  std::mutex events_mu_;
  std::condition_variable events_cv_;
  std::deque<std::function<void()>> events_;
  bool events_stop_ = false;
  std::thread events_thread_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_JOB_MANAGER_H_
