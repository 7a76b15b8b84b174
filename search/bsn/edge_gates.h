// The stochastic part of a Budgeted Super Network (Veniat and Denoyer, CVPR
// 2018): one Bernoulli gate per edge of the supergraph, H_e ~ B(p_e) with
// p_e = sigmoid(theta_e), the architecture being the edges whose gate is on.
// The gates are trained by REINFORCE on the budgeted reward
//   R(H) = -(loss(H) + lambda * max(0, C(H) - C_max))
// with the mean reward of the batch as the baseline:
//   grad theta_e = (1/n) sum_k (R_k - mean R) (H_k,e - p_e)
// ascended with Adam, jointly with the weights' SGD. At the end the
// architecture keeps the edges with p_e > 0.5.
#ifndef EDGENAS_SEARCH_BSN_EDGE_GATES_H_
#define EDGENAS_SEARCH_BSN_EDGE_GATES_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace edgenas {
namespace bsn {

// -(loss + lambda * max(0, cost - budget)). Higher is better.
double BudgetedReward(double loss, double cost, double budget, double lambda);

struct GateConfig {
  double initial_probability = 0.5;  // every p_e at the start, in (0, 1)
  double learning_rate = 1e-3;       // Adam on theta
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_epsilon = 1e-8;
};

struct GateStep {
  double mean_reward = 0;
  double mean_probability = 0;  // after the update
};

class EdgeGates {
 public:
  EdgeGates(int edges, GateConfig config);

  std::vector<uint8_t> Sample(std::mt19937_64& rng) const;
  double LogProb(const std::vector<uint8_t>& gates) const;
  // The edges kept in the end: p_e > 0.5.
  std::vector<uint8_t> Final() const;

  // One REINFORCE step with the batch-mean baseline (needs two or more
  // samples for a baseline that is not the sample itself).
  GateStep Update(const std::vector<std::vector<uint8_t>>& samples, const std::vector<double>& rewards);
  // The ascent direction of one batch, for the tests.
  std::vector<double> Gradient(const std::vector<std::vector<uint8_t>>& samples,
                               const std::vector<double>& rewards) const;

  double probability(int edge) const;
  const std::vector<double>& logits() const { return theta_; }
  int edges() const { return static_cast<int>(theta_.size()); }

  // Logits, Adam's moments and step count, for a checkpoint artifact.
  std::string ToBytes() const;
  static absl::StatusOr<EdgeGates> FromBytes(int edges, GateConfig config, const std::string& bytes);

 private:
  GateConfig config_;
  std::vector<double> theta_, m_, v_;
  int64_t steps_ = 0;
};

}  // namespace bsn
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_BSN_EDGE_GATES_H_
