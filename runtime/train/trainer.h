// Training a graph on a dataset: epochs of minibatch SGD (or Adam) on the
// training split, validation each epoch, early stopping on validation
// accuracy, and the test split touched once, at the end, only if asked.
#ifndef EDGENAS_RUNTIME_TRAIN_TRAINER_H_
#define EDGENAS_RUNTIME_TRAIN_TRAINER_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/data/batch_stream.h"
#include "runtime/data/dataset.h"
#include "runtime/exec/params.h"
#include "runtime/graph/graph.h"
#include "runtime/train/evaluate.h"
#include "runtime/train/optimizer.h"
#include "runtime/train/schedule.h"

namespace edgenas {

struct TrainOptions {
  int epochs = 5;
  int batch_size = 64;
  int eval_batch_size = 256;
  int threads = 0;  // 0: leave OpenMP's setting alone
  uint64_t seed = 1;
  OptimizerOptions optimizer;
  Schedule schedule;
  AugmentOptions augment;
  int early_stop_patience = 0;  // epochs without a better validation accuracy; 0 = off
  bool evaluate_test = true;    // the final report only; never used to choose
  // A constraint on the weights applied after every update (a pruned
  // layer's mask, shared weights' centroids); null: none. The trainer
  // touches the store after it.
  std::function<void(ParamStore*)> after_step;
};

struct EpochReport {
  int epoch = 0;  // 1-based
  int epochs = 0;
  double train_loss = 0;
  double train_accuracy = 0;
  double val_accuracy = 0;  // NaN-free: 0 when there is no validation split
  double seconds = 0;
  double images_per_s = 0;  // training throughput of this epoch (forward + backward + update)
  float lr = 0;
};

struct TrainReport {
  std::vector<EpochReport> epochs;
  // The loss of the first batch before any update: the starting weights'
  // loss (about ln(classes) from a fresh initialization).
  double initial_loss = 0;
  double best_val_accuracy = 0;
  int best_epoch = 0;
  double test_accuracy = -1;  // -1 when not evaluated
  double train_images_per_s = 0;
  double seconds = 0;
  bool stopped_early = false;
  bool cancelled = false;
};

using EpochCallback = std::function<void(const EpochReport&)>;
using StopCheck = std::function<bool()>;

// Trains `graph` with the weights in `params` (created by InitParams when
// missing). On return `params` holds the weights of the best validation
// epoch, or of the last epoch when there is no validation split. Runs
// oneDNN on the calling thread.
absl::StatusOr<TrainReport> Train(const Graph& graph, ParamStore* params, const DatasetSplits& data,
                                  const TrainOptions& options, const EpochCallback& on_epoch = nullptr,
                                  const StopCheck& should_stop = nullptr);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_TRAIN_TRAINER_H_
