// Deciding which latency is true. A measurement a worker reports is checked
// and recorded; its verdict says whether the task is done or must be
// measured again (too noisy; or, on a class with redundancy, more distinct
// workers must agree, BOINC-style). The settled latency of a graph counts
// only workers in good standing; a worker that keeps disagreeing with its
// class is flagged, and the trials it touched leave the front until they
// are measured again.
#ifndef EDGENAS_SERVER_LATENCY_LATENCY_JUDGE_H_
#define EDGENAS_SERVER_LATENCY_LATENCY_JUDGE_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "edgenas/v1/services.pb.h"
#include "server/latency/latency_key.h"
#include "server/latency/redundancy.h"
#include "server/store/sqlite.h"
#include "server/tasks/task_queue.h"

namespace edgenas {

struct LatencyJudgeOptions {
  double max_cv = 0.10;    // a noisier measurement is taken again ...
  int max_measurements = 3;  // ... up to this many times per graph and scope
  std::map<std::string, RedundancyPolicy> redundancy;  // per device class; default: one worker
};

class LatencyJudge {
 public:
  explicit LatencyJudge(LatencyJudgeOptions options) : options_(std::move(options)) {}

  const RedundancyPolicy& Policy(const std::string& device_class) const;

  // Checks and records the measurement `report` brings for the measure task
  // `row` (its kernels too), inside the caller's transaction, and decides.
  // A report that does not fit the task is InvalidArgument.
  absl::StatusOr<ApplyVerdict> Record(Db& db, const TaskRow& row,
                                      const v1::ReportResultRequest& report, int64_t now_ms) const;

  // The latency of `key` from workers in good standing, or nullopt while
  // it is not settled; p90 and cv from the measurement nearest to it.
  absl::StatusOr<std::optional<v1::LatencyMeasurement>> Settled(Db& db, const LatencyKey& key) const;

 private:
  // Redundancy for one graph on a class with replicas > 1: the verdict, and
  // agreements, disagreements and flags written in `db`.
  absl::StatusOr<ApplyVerdict> Reconcile(Db& db, const LatencyKey& key,
                                         const RedundancyPolicy& policy) const;
  // One worker's word: is its best measurement still too noisy, with
  // another one yet to be asked for? Record and Settled both decide by it.
  absl::StatusOr<bool> NeedsAnother(Db& db, const LatencyKey& key, double best_cv) const;

  const LatencyJudgeOptions options_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_LATENCY_LATENCY_JUDGE_H_
