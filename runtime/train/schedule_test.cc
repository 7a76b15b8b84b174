#include "runtime/train/schedule.h"

#include "gtest/gtest.h"

namespace edgenas {
namespace {

TEST(ScheduleTest, CosineGoesFromBaseToMinimum) {
  Schedule s;
  s.kind = Schedule::Kind::kCosine;
  s.base_lr = 0.1f;
  EXPECT_FLOAT_EQ(LearningRate(s, 0, 100), 0.1f);
  EXPECT_NEAR(LearningRate(s, 50, 100), 0.05f, 1e-6);
  EXPECT_NEAR(LearningRate(s, 100, 100), 0.0f, 1e-6);
}

TEST(ScheduleTest, StepDecaysEveryNSteps) {
  Schedule s;
  s.kind = Schedule::Kind::kStep;
  s.base_lr = 1.0f;
  s.step_every = 10;
  s.step_gamma = 0.5f;
  EXPECT_FLOAT_EQ(LearningRate(s, 9, 100), 1.0f);
  EXPECT_FLOAT_EQ(LearningRate(s, 10, 100), 0.5f);
  EXPECT_FLOAT_EQ(LearningRate(s, 35, 100), 0.125f);
}

TEST(ScheduleTest, WarmupRampsLinearly) {
  Schedule s;
  s.kind = Schedule::Kind::kConstant;
  s.base_lr = 0.4f;
  s.warmup_steps = 4;
  EXPECT_FLOAT_EQ(LearningRate(s, 0, 100), 0.1f);
  EXPECT_FLOAT_EQ(LearningRate(s, 3, 100), 0.4f);
  EXPECT_FLOAT_EQ(LearningRate(s, 50, 100), 0.4f);
}

}  // namespace
}  // namespace edgenas
