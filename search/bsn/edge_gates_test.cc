#include "search/bsn/edge_gates.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace edgenas {
namespace bsn {
namespace {

TEST(BsnGatesTest, BudgetedRewardPenalisesOnlyWhatIsOverTheBudget) {
  EXPECT_DOUBLE_EQ(BudgetedReward(0.5, 80, 100, 1e-2), -0.5);
  EXPECT_DOUBLE_EQ(BudgetedReward(0.5, 150, 100, 1e-2), -1.0);
}

// A reward over two gates, and E[R]'s exact gradient by enumerating the four
// architectures.
double TwoGateReward(const std::vector<uint8_t>& h) { return 1.0 * h[0] - 0.5 * h[1] + 0.7 * h[0] * h[1]; }

TEST(BsnGatesTest, TheEstimatorIsTheGradientOfTheExpectedReward) {
  GateConfig config;
  config.initial_probability = 0.3;
  EdgeGates gates(2, config);
  std::vector<double> exact(2, 0);
  for (int a = 0; a < 2; ++a) {
    for (int b = 0; b < 2; ++b) {
      const std::vector<uint8_t> h = {static_cast<uint8_t>(a), static_cast<uint8_t>(b)};
      const double p = std::exp(gates.LogProb(h));
      for (int e = 0; e < 2; ++e) exact[e] += p * TwoGateReward(h) * (h[e] - gates.probability(e));
    }
  }
  // With the batch's own mean as the baseline the estimator's expectation is
  // (1 - 1/n) times the gradient.
  const int n = 4, batches = 40000;
  std::mt19937_64 rng(1);
  std::vector<double> mean(2, 0);
  for (int i = 0; i < batches; ++i) {
    std::vector<std::vector<uint8_t>> s;
    std::vector<double> r;
    for (int k = 0; k < n; ++k) {
      s.push_back(gates.Sample(rng));
      r.push_back(TwoGateReward(s.back()));
    }
    const std::vector<double> g = gates.Gradient(s, r);
    for (int e = 0; e < 2; ++e) mean[e] += g[e] / batches;
  }
  for (int e = 0; e < 2; ++e) EXPECT_NEAR(mean[e], (1 - 1.0 / n) * exact[e], 0.005) << "edge " << e;
}

TEST(BsnGatesTest, TrainingKeepsTheUsefulEdgesWithinTheBudget) {
  // Six edges; edges 0 and 1 lower the loss, every edge costs 1, the budget
  // is 2: the best architecture is {0, 1}.
  GateConfig config;
  config.learning_rate = 0.05;
  EdgeGates gates(6, config);
  std::mt19937_64 rng(2);
  for (int step = 0; step < 600; ++step) {
    std::vector<std::vector<uint8_t>> s;
    std::vector<double> r;
    for (int k = 0; k < 8; ++k) {
      s.push_back(gates.Sample(rng));
      double cost = 0;
      for (uint8_t on : s.back()) cost += on;
      const double loss = 1.0 - 0.4 * (s.back()[0] + s.back()[1]);
      r.push_back(BudgetedReward(loss, cost, 2, 0.5));
    }
    gates.Update(s, r);
  }
  EXPECT_EQ(gates.Final(), (std::vector<uint8_t>{1, 1, 0, 0, 0, 0}));
  EXPECT_GT(gates.probability(0), 0.9);
  EXPECT_LT(gates.probability(5), 0.1);
}

TEST(BsnGatesTest, SavedGatesRestoreTheSameState) {
  EdgeGates gates(5, GateConfig{});
  std::mt19937_64 rng(3);
  for (int i = 0; i < 3; ++i) gates.Update({gates.Sample(rng), gates.Sample(rng)}, {0.2, 0.9});
  absl::StatusOr<EdgeGates> back = EdgeGates::FromBytes(5, GateConfig{}, gates.ToBytes());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->logits(), gates.logits());
  const std::vector<std::vector<uint8_t>> s = {{1, 0, 1, 0, 1}, {0, 1, 0, 1, 0}};
  gates.Update(s, {1, 0});
  back->Update(s, {1, 0});
  EXPECT_EQ(back->logits(), gates.logits());
  EXPECT_EQ(EdgeGates::FromBytes(6, GateConfig{}, gates.ToBytes()).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(EdgeGates::FromBytes(5, GateConfig{}, "BSNGATE1").status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace bsn
}  // namespace edgenas
