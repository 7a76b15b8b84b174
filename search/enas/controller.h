// ENAS's controller (Pham et al., ICML 2018): an LSTM that makes a child's
// decisions one after another, each a softmax over its choices read from the
// LSTM's state, the choice made fed back as the next step's input. It is
// trained by REINFORCE on the children's rewards: Adam, a moving-average
// baseline, an entropy bonus, and logits squashed as C * tanh(u / T).
//
// Plain C++: the controller is small (one LSTM layer of 64 units in ENAS's
// code, 100 in the paper) and runs in the strategy, not on a trainer.
#ifndef EDGENAS_SEARCH_ENAS_CONTROLLER_H_
#define EDGENAS_SEARCH_ENAS_CONTROLLER_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace edgenas {
namespace enas {

struct ControllerConfig {
  int hidden = 64;              // LSTM units (ENAS's code)
  double tanh_constant = 1.5;   // C in C * tanh(u / T) (ENAS: 1.1-2.5)
  double temperature = 1.0;     // T
  double entropy_weight = 1e-4;  // the paper's entropy bonus
  double baseline_decay = 0.99;  // b <- decay * b + (1 - decay) * R
  // Adam as ENAS's code runs it for the controller.
  double learning_rate = 3.5e-4;
  double adam_beta1 = 0.0;
  double adam_beta2 = 0.999;
  double adam_epsilon = 1e-3;
  double init_range = 0.1;  // weights uniform in [-init_range, init_range]
};

// One sampled child: its decisions, and the log-probability and entropy of
// the controller's distributions along the way.
struct ControllerSample {
  std::vector<int> decisions;
  double log_prob = 0;  // sum over steps of log p(decision)
  double entropy = 0;   // sum over steps of the step distribution's entropy
};

struct ControllerStep {
  double mean_reward = 0;
  double baseline = 0;  // after the update
  double mean_entropy = 0;
  double loss = 0;  // the surrogate loss the step descended
};

class Controller {
 public:
  // choices[i]: the number of options of decision i (each >= 1).
  Controller(std::vector<int> choices, ControllerConfig config, uint64_t seed);

  ControllerSample Sample(std::mt19937_64& rng) const;
  // Each decision the most probable one given the ones before.
  ControllerSample Greedy() const;
  // The log-probability and entropy of given decisions (one per decision,
  // each within its range).
  ControllerSample Score(const std::vector<int>& decisions) const;

  // One REINFORCE step on a batch of children and their rewards: each
  // reward moves the baseline in turn, and the step descends
  //   L = -(1/n) sum_k [(R_k - b) log p(a_k) + w H_k]
  // where H_k is the summed entropy of the step distributions along a_k
  // (its exact gradient, where ENAS's code adds a detached estimate of it to
  // the reward). The baseline starts at the first reward rather than 0, so
  // the first updates do not all push towards whatever was sampled.
  ControllerStep Update(const std::vector<ControllerSample>& samples,
                        const std::vector<double>& rewards);

  // The surrogate loss for fixed advantages, and its gradient with respect
  // to params(): for the gradient check.
  double Loss(const std::vector<ControllerSample>& samples, const std::vector<double>& advantages,
              std::vector<double>* gradient) const;

  const std::vector<int>& choices() const { return choices_; }
  const ControllerConfig& config() const { return config_; }
  std::vector<double>& params() { return params_; }
  double baseline() const { return baseline_; }
  int64_t steps() const { return steps_; }

  // Parameters, Adam moments, baseline and step count, for a checkpoint
  // artifact; FromBytes refuses bytes of another shape or a damaged blob.
  std::string ToBytes() const;
  static absl::StatusOr<Controller> FromBytes(std::vector<int> choices, ControllerConfig config,
                                              const std::string& bytes);

 private:
  struct Trace;
  // Runs the LSTM over the decisions (sampling them when `rng` is given,
  // taking the most probable when `greedy`, else following `given`) and
  // keeps what the backward pass needs.
  void Forward(std::mt19937_64* rng, bool greedy, const std::vector<int>* given,
               Trace* trace) const;
  void Backward(const Trace& trace, double advantage, double entropy_weight,
                std::vector<double>* gradient) const;

  // Offsets into params_.
  size_t StartInput() const { return 0; }
  size_t LstmW() const { return hidden(); }
  size_t LstmU() const { return LstmW() + 4 * hidden() * hidden(); }
  size_t LstmB() const { return LstmU() + 4 * hidden() * hidden(); }
  int hidden() const { return config_.hidden; }

  std::vector<int> choices_;
  ControllerConfig config_;
  std::vector<size_t> softmax_w_, softmax_b_, embedding_;  // per decision
  std::vector<double> params_;
  std::vector<double> adam_m_, adam_v_;
  double baseline_ = 0;
  bool baseline_set_ = false;
  int64_t steps_ = 0;
};

}  // namespace enas
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_ENAS_CONTROLLER_H_
