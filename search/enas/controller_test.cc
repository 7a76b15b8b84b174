#include "search/enas/controller.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace edgenas {
namespace enas {
namespace {

ControllerConfig SmallController() {
  ControllerConfig c;
  c.hidden = 8;
  c.init_range = 0.5;  // larger than ENAS's, so the gradient check sees curved places
  return c;
}

TEST(EnasControllerTest, GradientMatchesFiniteDifferences) {
  ControllerConfig config = SmallController();
  config.entropy_weight = 0.3;  // large, so its part of the gradient counts
  config.tanh_constant = 2.0;
  config.temperature = 1.5;
  Controller c({3, 2, 4, 1, 3}, config, 7);
  std::mt19937_64 rng(3);
  std::vector<ControllerSample> samples;
  for (int i = 0; i < 4; ++i) samples.push_back(c.Sample(rng));
  const std::vector<double> advantages = {0.7, -0.4, 1.3, -0.2};
  std::vector<double> gradient;
  c.Loss(samples, advantages, &gradient);
  ASSERT_EQ(gradient.size(), c.params().size());
  double worst = 0;
  for (size_t i = 0; i < c.params().size(); ++i) {
    const double keep = c.params()[i], eps = 1e-6;
    c.params()[i] = keep + eps;
    const double up = c.Loss(samples, advantages, nullptr);
    c.params()[i] = keep - eps;
    const double down = c.Loss(samples, advantages, nullptr);
    c.params()[i] = keep;
    const double numeric = (up - down) / (2 * eps);
    const double error = std::abs(numeric - gradient[i]) / std::max(1e-4, std::abs(numeric) + std::abs(gradient[i]));
    worst = std::max(worst, error);
    ASSERT_LT(error, 1e-5) << "parameter " << i << ": analytic " << gradient[i] << ", numeric " << numeric;
  }
  RecordProperty("worst_relative_error", std::to_string(worst));
}

TEST(EnasControllerTest, ScoreAgreesWithSampleAndProbabilitiesSumToOne) {
  Controller c({4, 3}, SmallController(), 5);
  std::mt19937_64 rng(1);
  const ControllerSample s = c.Sample(rng);
  const ControllerSample scored = c.Score(s.decisions);
  EXPECT_DOUBLE_EQ(scored.log_prob, s.log_prob);
  EXPECT_DOUBLE_EQ(scored.entropy, s.entropy);
  double total = 0;
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 3; ++b) total += std::exp(c.Score({a, b}).log_prob);
  EXPECT_NEAR(total, 1.0, 1e-12);
}

TEST(EnasControllerTest, ReinforceLearnsTheRewardedChild) {
  ControllerConfig config = SmallController();
  config.init_range = 0.1;
  config.learning_rate = 0.02;
  config.entropy_weight = 0;
  const std::vector<int> target = {2, 0, 3, 1, 4, 0};
  Controller c({5, 5, 5, 5, 5, 5}, config, 11);
  std::mt19937_64 rng(2);
  for (int step = 0; step < 400; ++step) {
    std::vector<ControllerSample> batch;
    std::vector<double> rewards;
    for (int k = 0; k < 8; ++k) {
      batch.push_back(c.Sample(rng));
      double right = 0;
      for (size_t i = 0; i < target.size(); ++i) right += batch.back().decisions[i] == target[i];
      rewards.push_back(right / target.size());
    }
    c.Update(batch, rewards);
  }
  EXPECT_EQ(c.Greedy().decisions, target);
  // Near the most the tanh constant allows: e^C / (e^C + 4 e^-C) per step.
  const double step_bound = std::exp(1.5) / (std::exp(1.5) + 4 * std::exp(-1.5));
  EXPECT_GT(std::exp(c.Score(target).log_prob), 0.9 * std::pow(step_bound, 6));
}

TEST(EnasControllerTest, TheEntropyBonusKeepsTheControllerExploring) {
  // Rewards that always favour decision 0, with and without the bonus.
  auto run = [](double entropy_weight) {
    ControllerConfig config = SmallController();
    config.learning_rate = 0.02;
    config.entropy_weight = entropy_weight;
    Controller c({4, 4, 4}, config, 13);
    std::mt19937_64 rng(4);
    for (int step = 0; step < 200; ++step) {
      std::vector<ControllerSample> batch;
      std::vector<double> rewards;
      for (int k = 0; k < 8; ++k) {
        batch.push_back(c.Sample(rng));
        double zeros = 0;
        for (int d : batch.back().decisions) zeros += d == 0;
        rewards.push_back(zeros / 3);
      }
      c.Update(batch, rewards);
    }
    return c.Greedy().entropy;
  };
  EXPECT_GT(run(0.5), run(0.0) + 0.1);
}

TEST(EnasControllerTest, TheTanhConstantBoundsHowSureAStepCanBe) {
  ControllerConfig config = SmallController();
  config.tanh_constant = 1.0;
  config.learning_rate = 0.05;
  config.entropy_weight = 0;
  Controller c({3}, config, 17);
  std::mt19937_64 rng(6);
  for (int step = 0; step < 300; ++step) {
    std::vector<ControllerSample> batch;
    std::vector<double> rewards;
    for (int k = 0; k < 8; ++k) {
      batch.push_back(c.Sample(rng));
      rewards.push_back(batch.back().decisions[0] == 1 ? 1.0 : 0.0);
    }
    c.Update(batch, rewards);
  }
  // Logits within [-1, 1]: p <= e / (e + 2 / e) for three choices.
  const double bound = std::exp(1.0) / (std::exp(1.0) + 2 * std::exp(-1.0));
  const double p = std::exp(c.Score({1}).log_prob);
  EXPECT_GT(p, 0.6);
  EXPECT_LE(p, bound + 1e-12);
}

TEST(EnasControllerTest, SavedStateRestoresTheSameController) {
  ControllerConfig config = SmallController();
  config.learning_rate = 0.01;
  Controller c({3, 4}, config, 19);
  std::mt19937_64 rng(8);
  for (int step = 0; step < 5; ++step) {
    std::vector<ControllerSample> b = {c.Sample(rng), c.Sample(rng)};
    c.Update(b, {0.3, 0.8});
  }
  absl::StatusOr<Controller> back = Controller::FromBytes({3, 4}, config, c.ToBytes());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->params(), c.params());
  EXPECT_EQ(back->baseline(), c.baseline());
  EXPECT_EQ(back->steps(), c.steps());
  // The next update is the same too (Adam's moments came back).
  std::mt19937_64 r1(9), r2(9);
  std::vector<ControllerSample> b1 = {c.Sample(r1)}, b2 = {back->Sample(r2)};
  c.Update(b1, {0.5});
  back->Update(b2, {0.5});
  EXPECT_EQ(back->params(), c.params());

  EXPECT_EQ(Controller::FromBytes({3, 5}, config, c.ToBytes()).status().code(),
            absl::StatusCode::kDataLoss);
  std::string cut = c.ToBytes();
  cut.resize(cut.size() - 1);
  EXPECT_EQ(Controller::FromBytes({3, 4}, config, cut).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Controller::FromBytes({3, 4}, config, "garbage").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(EnasControllerTest, ASeedGivesTheSameSamples) {
  Controller a({5, 5, 2}, ControllerConfig{}, 21), b({5, 5, 2}, ControllerConfig{}, 21);
  std::mt19937_64 ra(1), rb(1);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a.Sample(ra).decisions, b.Sample(rb).decisions);
}

}  // namespace
}  // namespace enas
}  // namespace edgenas
