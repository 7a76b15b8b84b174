#include "runtime/train/loss.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace edgenas {
namespace {

TEST(LossTest, CrossEntropyValueAndGradient) {
  // Logits (0, ln 3) for label 1: p = (1/4, 3/4); loss = -ln(3/4).
  std::vector<float> z = {0.0f, std::log(3.0f)};
  int32_t label = 1;
  std::vector<float> d(2);
  EXPECT_NEAR(SoftmaxCrossEntropy(z.data(), &label, 1, 2, d.data()), -std::log(0.75), 1e-6);
  EXPECT_NEAR(d[0], 0.25, 1e-6);
  EXPECT_NEAR(d[1], -0.25, 1e-6);
}

TEST(LossTest, GradientMatchesFiniteDifferencesAndIsStableForLargeLogits) {
  std::vector<float> z = {1000.0f, -3.0f, 999.0f, 0.5f, 2.0f, -1.0f};
  std::vector<int32_t> labels = {2, 0};
  std::vector<float> d(6);
  const float loss = SoftmaxCrossEntropy(z.data(), labels.data(), 2, 3, d.data());
  EXPECT_TRUE(std::isfinite(loss));
  for (int i = 0; i < 6; ++i) {
    std::vector<float> p = z, m = z;
    p[i] += 1e-2f;
    m[i] -= 1e-2f;
    const double num = (SoftmaxCrossEntropy(p.data(), labels.data(), 2, 3, nullptr) -
                        SoftmaxCrossEntropy(m.data(), labels.data(), 2, 3, nullptr)) / 2e-2;
    EXPECT_NEAR(d[i], num, 2e-3) << i;
  }
}

TEST(LossTest, CountsArgMaxHits) {
  std::vector<float> z = {0, 1, 0, 5, 0, 0, 0, 0, 9};
  std::vector<int32_t> labels = {1, 1, 2};
  EXPECT_EQ(CountCorrect(z.data(), labels.data(), 3, 3), 2);
}

}  // namespace
}  // namespace edgenas
