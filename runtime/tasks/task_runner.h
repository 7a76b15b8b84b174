// Running the two kinds of task a worker takes, on this machine, with the
// engine: TRAIN (a graph on a named dataset) and MEASURE_LATENCY (a graph's
// inference latency). Shared by edgenasd's in-process workers and by
// edgenas-worker, so local and remote results mean the same thing.
#ifndef EDGENAS_RUNTIME_TASKS_TASK_RUNNER_H_
#define EDGENAS_RUNTIME_TASKS_TASK_RUNNER_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "edgenas/v1/results.pb.h"
#include "edgenas/v1/services.pb.h"
#include "runtime/data/dataset.h"

namespace edgenas {

// Datasets by name, loaded once per (name, split settings). The name is
// mapped to this machine's own files: no path ever comes from a task.
class DatasetCache {
 public:
  // `dirs` maps a dataset name to a directory; absent names use the default.
  explicit DatasetCache(std::map<std::string, std::string> dirs = {}) : dirs_(std::move(dirs)) {}
  absl::StatusOr<std::shared_ptr<const DatasetSplits>> Get(const std::string& name,
                                                           double validation_fraction,
                                                           uint64_t seed, int64_t max_train_images);

 private:
  std::map<std::string, std::string> dirs_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const DatasetSplits>> loaded_;
};

struct TrainTaskResult {
  v1::TrainMetrics metrics;
  std::string model_file;  // the trained model, serialized
};

// Trains task.graph as task.train says. Never touches the test split.
// `should_stop` is polled between batches (lease lost, shutdown).
absl::StatusOr<TrainTaskResult> RunTrainTask(const v1::Task& task, DatasetCache& datasets,
                                             const std::function<bool()>& should_stop);

// Measures task.graph's inference latency (random weights: latency does not
// depend on their values) as task.measure says; fills every repeat, then
// the median time of each kernel from a few profiled passes (kernels).
absl::StatusOr<v1::LatencyMeasurement> RunMeasureTask(const v1::Task& task);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_TASKS_TASK_RUNNER_H_
