// ENAS's search loop (Pham et al., ICML 2018, section 2.2), over any
// supergraph whose children are decision vectors: each epoch trains the
// shared weights on sampled children (one per minibatch), then the
// controller by REINFORCE on the rewards of children scored with the shared
// weights; at the end the best of many sampled children is derived.
//
// The heavy work goes through a SupernetBackend: in a job, tasks leased to
// trainers; in tests and local runs, a SupernetTrainer in this process.
#ifndef EDGENAS_SEARCH_ENAS_ENAS_SEARCH_H_
#define EDGENAS_SEARCH_ENAS_ENAS_SEARCH_H_

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "runtime/supernet/supernet_trainer.h"
#include "search/enas/controller.h"

namespace edgenas {
namespace enas {

class SupernetBackend {
 public:
  virtual ~SupernetBackend() = default;
  // Minibatches in one pass over the training split.
  virtual int64_t StepsPerEpoch() const = 0;
  // children[k] trains on the k-th minibatch; first_step and total_steps
  // place the steps on the shared weights' learning-rate schedule.
  virtual absl::StatusOr<supernet::PhaseReport> Train(const std::vector<std::vector<int>>& children,
                                                     int64_t first_step, int64_t total_steps,
                                                     uint64_t seed) = 0;
  // Each child's accuracy on its own validation minibatch.
  virtual absl::StatusOr<std::vector<double>> Score(const std::vector<std::vector<int>>& children,
                                                    uint64_t seed) = 0;
};

struct EnasSearchParams {
  int epochs = 10;
  // Controller steps per epoch, each on controller_batch children (ENAS's
  // code: 50 steps aggregating 20 samples each).
  int controller_steps = 50;
  int controller_batch = 20;
  // Children sampled at the end; the best on validation is derived.
  int derive_samples = 100;
  ControllerConfig controller;
};

// The reward of a child from its validation accuracy: the job's objective
// (accuracy, or the MnasNet reward with the child's latency).
using RewardFunction = std::function<absl::StatusOr<double>(const std::vector<int>& child, double accuracy)>;

struct EpochReport {
  int epoch = 0;  // 1-based
  supernet::PhaseReport shared;
  double mean_reward = 0;
  double controller_entropy = 0;  // mean summed entropy of the sampled children
  double baseline = 0;
  std::vector<int> best_child;  // the best-rewarded child scored this epoch
  double best_reward = 0;
};

class EnasSearch {
 public:
  EnasSearch(std::vector<int> choices, EnasSearchParams params, uint64_t seed);

  // One epoch: the shared weights on one pass of sampled children, then the
  // controller's steps.
  absl::StatusOr<EpochReport> RunEpoch(SupernetBackend& backend, const RewardFunction& reward);
  // derive_samples children sampled and scored; the best by reward.
  absl::StatusOr<std::vector<int>> Derive(SupernetBackend& backend, const RewardFunction& reward);

  int epochs_done() const { return epoch_; }
  const Controller& controller() const { return controller_; }

  // The loop's state (epoch, generator) as JSON and the controller as bytes,
  // for a checkpoint; Restore refuses state of another shape.
  nlohmann::json StateJson() const;
  std::string ControllerBytes() const { return controller_.ToBytes(); }
  absl::Status Restore(const nlohmann::json& state, const std::string& controller_bytes);

 private:
  std::vector<int> choices_;
  EnasSearchParams params_;
  Controller controller_;
  std::mt19937_64 rng_;
  int epoch_ = 0;
};

}  // namespace enas
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_ENAS_ENAS_SEARCH_H_
