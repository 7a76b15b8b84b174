// Progress events of jobs for their watchers: a snapshot of a job's figures
// (trials and work against the budget, elapsed time, best reward, best
// accuracy within the latency target, front size, hypervolume, phase), and
// one event per finished trial.
#ifndef EDGENAS_SERVER_JOBS_PROGRESS_HUB_H_
#define EDGENAS_SERVER_JOBS_PROGRESS_HUB_H_

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "edgenas/v1/results.pb.h"
#include "search/api/evaluation.h"
#include "server/store/store.h"

namespace edgenas {

class ProgressHub {
 public:
  using Clock = std::function<int64_t()>;
  using Listener = std::function<void(const v1::ProgressEvent&)>;

  ProgressHub(Store* store, Clock clock) : store_(store), clock_(std::move(clock)) {}

  // Progress events of one job; the listener must not block.
  int Subscribe(const std::string& job_id, Listener listener);
  void Unsubscribe(int subscription);

  absl::StatusOr<v1::ProgressEvent> Snapshot(const std::string& job_id);
  // Tells the job's watchers its figures now, with `message`, and the trial
  // that just finished when there is one.
  void Publish(const std::string& job_id, const std::string& message, const TrialResult* last);

 private:
  Store* store_;
  Clock clock_;
  std::mutex mu_;
  std::map<int, std::pair<std::string, Listener>> listeners_;
  int next_ = 1;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_PROGRESS_HUB_H_
