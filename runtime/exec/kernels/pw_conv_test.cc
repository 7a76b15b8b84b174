#include "runtime/exec/kernels/pw_conv.h"

#include <omp.h>

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/testing/act_reference.h"

namespace edgenas {
namespace {

// Runs the kernel on `threads` threads against the definition in double:
// sum over the input channels, bias, activation, then the residual.
void Check(const PointwiseShape& s, BnAct act, int threads, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  const int64_t p = s.pixels, ci = s.in_channels, co = s.out_channels;
  std::vector<float> x(p * ci), w(ci * co), bias(co), residual(p * co);
  for (float& v : x) v = n(rng);
  for (float& v : w) v = n(rng);
  for (float& v : bias) v = n(rng);
  for (float& v : residual) v = n(rng);
  std::vector<float> y(p * co + 64, 1234.5f);
  if (s.residual) std::copy(residual.begin(), residual.end(), y.begin());
  // The weights as the kernel reads them: [co / 16][ci][16].
  std::vector<float> wk(w.size());
  for (int64_t i = 0; i < ci; ++i)
    for (int64_t c = 0; c < co; ++c) wk[(c / 16 * ci + i) * 16 + c % 16] = w[i * co + c];
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  PointwiseConvForward(s, act, x.data(), wk.data(), bias.data(), y.data());
  omp_set_num_threads(before);
  for (int64_t r = 0; r < p; ++r)
    for (int64_t c = 0; c < co; ++c) {
      double sum = bias[c];
      for (int64_t i = 0; i < ci; ++i) sum += double(x[r * ci + i]) * w[i * co + c];
      double want = testing::ReferenceAct(act, sum);
      if (s.residual) want += residual[r * co + c];
      ASSERT_NEAR(y[r * co + c], want, 1e-4 * (1 + std::abs(want)))
          << "pixel " << r << " channel " << c << " act " << static_cast<int>(act) << " threads "
          << threads;
    }
  for (size_t i = p * co; i < y.size(); ++i) ASSERT_EQ(y[i], 1234.5f) << "written past y at " << i;
}

// mobile-tiny's three (ds3's pw, MBConv's expand and its project with the
// residual), ds1's, and shapes whose pixels and channels are not whole
// blocks: 1 to 13 pixels, 16 to 80 channels, odd input channel counts.
TEST(PointwiseConvTest, MatchesTheDefinition) {
  const PointwiseShape shapes[] = {
      {49, 64, 128, false}, {49, 128, 512, false}, {49, 512, 128, true},
      {196, 16, 32, false}, {1, 3, 16, false},     {7, 5, 48, true},
      {13, 20, 80, false},  {25, 33, 64, true},    {50, 8, 16, false},
  };
  const BnAct acts[] = {BnAct::kNone, BnAct::kRelu, BnAct::kRelu6, BnAct::kHardSwish,
                        BnAct::kHardSigmoid};
  uint64_t seed = 1;
  for (const PointwiseShape& s : shapes)
    for (BnAct act : acts)
      for (int threads : {1, 2}) {
        SCOPED_TRACE(::testing::Message() << s.pixels << " pixels, " << s.in_channels << " -> "
                                          << s.out_channels << (s.residual ? " + residual" : ""));
        Check(s, act, threads, seed++);
      }
}

TEST(PointwiseConvTest, TakesWholeVectorsOfOutputChannels) {
  EXPECT_TRUE(PointwiseApplies({49, 3, 16, false}));
  EXPECT_FALSE(PointwiseApplies({49, 3, 24, false}));
  EXPECT_FALSE(PointwiseApplies({49, 3, 8, false}));
}

}  // namespace
}  // namespace edgenas
