// Training-step throughput of a graph on synthetic data, and where the time
// goes: inside compute kernels (oneDNN primitives and our own, such as
// bn_act), or in edgenas around them (the framework overhead: loss,
// optimizer, bookkeeping steps).
#ifndef EDGENAS_RUNTIME_BENCH_TRAIN_BENCH_H_
#define EDGENAS_RUNTIME_BENCH_TRAIN_BENCH_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/graph/graph.h"

namespace edgenas {

struct TrainBenchOptions {
  int batch = 64;
  int warmup_steps = 5;
  int steps = 50;
  uint64_t seed = 1;
};

struct TrainBenchResult {
  double images_per_s = 0;
  double step_ms_median = 0;
  double step_ms_mean = 0;
  double primitive_ms_mean = 0;  // per step, inside oneDNN primitives
  double kernel_ms_mean = 0;     // per step, inside our own compute kernels
  double loss_ms_mean = 0;       // per step, softmax cross-entropy
  double update_ms_mean = 0;     // per step, the optimizer's update
  // The median over the steps of 1 - (primitive + kernel time) / step time:
  // like the throughput, the typical step's. On a shared host a step now
  // and then loses a core for a millisecond or more; in 50 steps of 0.3 ms,
  // one such step moves a figure taken from the means by several points.
  double overhead_fraction = 0;
  std::map<std::string, double> step_breakdown_ms;  // per step: "backward conv1 convolution" -> ms
};

// One step = forward, softmax cross-entropy, backward, SGD-momentum update.
// The loss and the update count as time outside compute kernels; the
// breakdown shows them apart.
absl::StatusOr<TrainBenchResult> MeasureTrainingThroughput(const Graph& graph,
                                                           const TrainBenchOptions& options);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_BENCH_TRAIN_BENCH_H_
