#include "search/objective/mnas_reward.h"

#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace edgenas {
namespace {

TEST(MnasObjectiveTest, SoftAndHardSetTheExponentsOfThePaper) {
  const MnasObjective soft = MnasObjective::Soft(80.0);
  EXPECT_EQ(soft.target_ms, 80.0);
  EXPECT_EQ(soft.alpha, -0.07);
  EXPECT_EQ(soft.beta, -0.07);

  const MnasObjective custom = MnasObjective::Soft(10.0, -0.15);
  EXPECT_EQ(custom.alpha, -0.15);
  EXPECT_EQ(custom.beta, -0.15);

  const MnasObjective hard = MnasObjective::Hard(80.0);
  EXPECT_EQ(hard.target_ms, 80.0);
  EXPECT_EQ(hard.alpha, 0.0);
  EXPECT_EQ(hard.beta, -1.0);
}

TEST(MnasObjectiveTest, ValidateAcceptsThePresets) {
  EXPECT_TRUE(ValidateMnasObjective(MnasObjective::Soft(80.0)).ok());
  EXPECT_TRUE(ValidateMnasObjective(MnasObjective::Hard(0.5)).ok());
}

TEST(MnasObjectiveTest, ValidateRefusesBadTargetsAndExponents) {
  const double kNan = std::numeric_limits<double>::quiet_NaN();
  const double kInf = std::numeric_limits<double>::infinity();
  for (double target : {0.0, -1.0, kNan, kInf}) {
    const absl::Status s = ValidateMnasObjective(MnasObjective::Soft(target));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << target;
    EXPECT_NE(s.message().find("target_ms"), std::string::npos) << s;
  }
  for (double w : {0.01, kNan, kInf, -kInf}) {
    MnasObjective alpha_bad{10.0, w, -0.07};
    EXPECT_EQ(ValidateMnasObjective(alpha_bad).code(), absl::StatusCode::kInvalidArgument) << w;
    EXPECT_NE(ValidateMnasObjective(alpha_bad).message().find("alpha"), std::string::npos);
    MnasObjective beta_bad{10.0, -0.07, w};
    EXPECT_EQ(ValidateMnasObjective(beta_bad).code(), absl::StatusCode::kInvalidArgument) << w;
    EXPECT_NE(ValidateMnasObjective(beta_bad).message().find("beta"), std::string::npos);
  }
}

TEST(MnasRewardTest, SoftMatchesHandComputedValues) {
  const MnasObjective soft = MnasObjective::Soft(50.0);
  // At the target the factor is 1.
  EXPECT_DOUBLE_EQ(MnasReward(0.9, 50.0, soft), 0.9);
  // 2T: 0.9 * 2^-0.07 = 0.9 * 0.952638...
  EXPECT_DOUBLE_EQ(MnasReward(0.9, 100.0, soft), 0.9 * std::pow(2.0, -0.07));
  EXPECT_NEAR(MnasReward(0.9, 100.0, soft), 0.857374, 1e-6);
  // T/2 earns the mirror bonus: 0.9 * 2^0.07.
  EXPECT_NEAR(MnasReward(0.9, 25.0, soft), 0.944745, 1e-6);
}

TEST(MnasRewardTest, TwiceTheLatencyIsWorthAboutFivePercentAccuracy) {
  const MnasObjective soft = MnasObjective::Soft(30.0);
  // The ratio holds for any pair (L, 2L), below or above the target.
  for (double latency : {3.0, 15.0, 30.0, 45.0, 300.0}) {
    const double ratio = MnasReward(0.8, 2 * latency, soft) / MnasReward(0.8, latency, soft);
    EXPECT_NEAR(ratio, 0.95, 0.005) << latency;
  }
  // So a model 5% more accurate at twice the latency scores about the same.
  const double base = MnasReward(0.80, 20.0, soft);
  const double slower_better = MnasReward(0.80 * 1.05, 40.0, soft);
  EXPECT_NEAR(slower_better / base, 1.0, 0.005);
}

TEST(MnasRewardTest, HardConstraintIsAccuracyUpToTargetThenScaledByTOverLat) {
  const MnasObjective hard = MnasObjective::Hard(40.0);
  EXPECT_DOUBLE_EQ(MnasReward(0.7, 1.0, hard), 0.7);
  EXPECT_DOUBLE_EQ(MnasReward(0.7, 39.9, hard), 0.7);
  EXPECT_DOUBLE_EQ(MnasReward(0.7, 40.0, hard), 0.7);
  EXPECT_DOUBLE_EQ(MnasReward(0.7, 80.0, hard), 0.35);
  EXPECT_DOUBLE_EQ(MnasReward(0.7, 50.0, hard), 0.7 * 40.0 / 50.0);
  EXPECT_DOUBLE_EQ(MnasReward(0.6, 400.0, hard), 0.06);
}

TEST(MnasRewardTest, AsymmetricExponentsPickBySideOfTheTarget) {
  const MnasObjective objective{10.0, -0.5, -2.0};
  EXPECT_DOUBLE_EQ(MnasReward(1.0, 2.5, objective), 2.0);    // (1/4)^-0.5
  EXPECT_DOUBLE_EQ(MnasReward(1.0, 20.0, objective), 0.25);  // 2^-2
}

}  // namespace
}  // namespace edgenas
