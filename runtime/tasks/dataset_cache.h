// Datasets by name for the tasks a worker runs, loaded once per split.
#ifndef EDGENAS_RUNTIME_TASKS_DATASET_CACHE_H_
#define EDGENAS_RUNTIME_TASKS_DATASET_CACHE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/data/dataset.h"

namespace edgenas {

// The name is mapped to this machine's own files: no path ever comes from a
// task. Thread-safe.
class DatasetCache {
 public:
  // `dirs` maps a dataset name to a directory; absent names use the default.
  explicit DatasetCache(std::map<std::string, std::string> dirs = {}) : dirs_(std::move(dirs)) {}

  // The splits of `name` as LoadNamedDataset makes them; shared, never changed.
  absl::StatusOr<std::shared_ptr<const DatasetSplits>> Get(const std::string& name,
                                                           double validation_fraction,
                                                           uint64_t seed, int64_t max_train_images);

 private:
  std::map<std::string, std::string> dirs_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const DatasetSplits>> loaded_;
};

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_TASKS_DATASET_CACHE_H_
