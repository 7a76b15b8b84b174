// Training a supergraph's shared weights and scoring its children with
// them, as ENAS's two phases need (Pham et al. 2018, section 2.2): one child
// per minibatch, each child's forward and backward pass and an update of the
// weights it used only, all children reading one ParamStore.
//
// A child is compiled once into a CompiledNet on the shared store and kept
// in a bounded cache, most recently used first; a child met again (the
// controller settles on a few) costs no compilation. oneDNN's own primitive
// cache serves the layers that a new child shares with earlier ones.
#ifndef EDGENAS_RUNTIME_SUPERNET_SUPERNET_TRAINER_H_
#define EDGENAS_RUNTIME_SUPERNET_SUPERNET_TRAINER_H_

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/data/batch_stream.h"
#include "runtime/data/dataset.h"
#include "runtime/exec/net.h"
#include "runtime/exec/params.h"
#include "runtime/graph/graph.h"
#include "runtime/train/optimizer.h"
#include "runtime/train/schedule.h"

namespace edgenas {
namespace supernet {

struct SupernetOptions {
  int batch_size = 64;
  OptimizerOptions optimizer;  // SGD with momentum, as ENAS trains shared weights
  Schedule schedule;           // over the whole search's steps (Train's first_step, total_steps)
  AugmentOptions augment;
  int net_cache = 16;  // compiled children kept
};

struct SupernetStats {
  int64_t compiles = 0;  // children compiled
  int64_t reuses = 0;    // children served from the cache
  double compile_seconds = 0;
};

struct PhaseReport {
  int steps = 0;
  double mean_loss = 0;
  double train_accuracy = 0;
  double seconds = 0;
};

class SupernetTrainer {
 public:
  using ChildBuilder = std::function<absl::StatusOr<Graph>(const std::vector<int>& decisions)>;

  // `shared` holds every tensor of every child and outlives the trainer.
  SupernetTrainer(ChildBuilder build, ParamStore* shared, SupernetOptions options);

  // children[k] trains on the k-th minibatch of shuffled passes over
  // `train` (a new pass, seeded from `seed`, when one ends). `first_step` and
  // `total_steps` place these steps on the learning-rate schedule.
  absl::StatusOr<PhaseReport> Train(const Dataset& train, const Normalization& norm,
                                    const std::vector<std::vector<int>>& children,
                                    int64_t first_step, int64_t total_steps, uint64_t seed);

  // Each child's accuracy on its own minibatch of `validation` (child k on
  // the k-th of a shuffled pass seeded from `seed`), with the shared weights
  // and batch norm on the minibatch's statistics, as ENAS scores a sampled
  // child for the controller's reward. Nothing is updated but batch norm's
  // running statistics.
  absl::StatusOr<std::vector<double>> Score(const Dataset& validation, const Normalization& norm,
                                            const std::vector<std::vector<int>>& children,
                                            uint64_t seed);

  const SupernetStats& stats() const { return stats_; }

 private:
  absl::StatusOr<CompiledNet*> Net(const std::vector<int>& decisions);

  ChildBuilder build_;
  ParamStore* shared_;
  SupernetOptions options_;
  std::unique_ptr<Optimizer> optimizer_;
  // (decisions as text, net), most recently used first.
  std::list<std::pair<std::string, std::unique_ptr<CompiledNet>>> nets_;
  SupernetStats stats_;
};

}  // namespace supernet
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_SUPERNET_SUPERNET_TRAINER_H_
