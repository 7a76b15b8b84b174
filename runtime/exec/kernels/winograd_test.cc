#include "runtime/exec/kernels/winograd.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/testing/act_reference.h"

namespace edgenas {
namespace {

// The definition, in double: 3x3 correlation with zero padding, bias,
// activation, then the 2x2 stride-2 max pool if asked; channels-last.
std::vector<double> Reference(const WinogradShape& s, BnAct act, const std::vector<float>& x,
                              const std::vector<float>& w, const std::vector<float>& bias) {
  const int64_t oh = s.out_height(), ow = s.out_width(), cin = s.in_channels, cout = s.out_channels;
  std::vector<double> conv(oh * ow * cout);
  for (int64_t y = 0; y < oh; ++y)
    for (int64_t x0 = 0; x0 < ow; ++x0)
      for (int64_t co = 0; co < cout; ++co) {
        double sum = bias[co];
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx) {
            const int64_t iy = y - s.pad_h + ky, ix = x0 - s.pad_w + kx;
            if (iy < 0 || iy >= s.height || ix < 0 || ix >= s.width) continue;
            for (int64_t ci = 0; ci < cin; ++ci)
              sum += double(x[(iy * s.width + ix) * cin + ci]) *
                     w[((co * cin + ci) * 3 + ky) * 3 + kx];
          }
        conv[(y * ow + x0) * cout + co] = testing::ReferenceAct(act, sum);
      }
  if (!s.pool) return conv;
  std::vector<double> pooled(s.y_height() * s.y_width() * cout);
  for (int64_t y = 0; y < s.y_height(); ++y)
    for (int64_t x0 = 0; x0 < s.y_width(); ++x0)
      for (int64_t co = 0; co < cout; ++co) {
        double m = -INFINITY;
        for (int q = 0; q < 4; ++q)
          m = std::max(m, conv[((2 * y + q / 2) * ow + 2 * x0 + q % 2) * cout + co]);
        pooled[(y * s.y_width() + x0) * cout + co] = m;
      }
  return pooled;
}

// Runs WinogradForward on `threads` threads and compares with Reference.
void Check(const WinogradShape& s, BnAct act, int threads, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> x(s.height * s.width * s.in_channels), w(s.out_channels * s.in_channels * 9),
      bias(s.padded_out(), 0.0f);
  for (float& v : x) v = n(rng);
  for (float& v : w) v = n(rng) / std::sqrt(9.0f * s.in_channels) * 3;
  for (int64_t c = 0; c < s.out_channels; ++c) bias[c] = n(rng);
  std::vector<float> u(s.weight_floats(), -1.0f);
  WinogradWeights(s, w.data(), u.data());
  const int parts = 2;
  std::vector<float> scratch(parts * s.scratch_per_thread(), 0.0f);
  // A guard past the output: nothing may be written there.
  const int64_t size = s.y_height() * s.y_width() * s.out_channels;
  std::vector<float> y(size + 64, 1234.5f);
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  WinogradForward(s, act, x.data(), u.data(), bias.data(), scratch.data(), parts, y.data());
  omp_set_num_threads(before);
  const std::vector<double> want = Reference(s, act, x, w, bias);
  ASSERT_EQ(want.size(), static_cast<size_t>(size));
  // F(4x4)'s transforms take the values through larger multiples (its
  // points reach +-2, A^T holds 8s): its rounding errors here reach 4e-5 of
  // 1 + |y| (F(2x2)'s: 2.2e-6), with weights 3x He's scale.
  const double bound = s.tile == 4 ? 1e-4 : 1e-5;
  double worst = 0;
  for (int64_t i = 0; i < size; ++i) {
    const double err = std::abs(y[i] - want[i]) / (1 + std::abs(want[i]));
    worst = std::max(worst, err);
    ASSERT_LT(err, bound) << "at " << i << " of " << size << ": " << y[i] << " vs " << want[i];
  }
  for (int64_t i = size; i < size + 64; ++i) ASSERT_EQ(y[i], 1234.5f) << "written past the end";
}

TEST(WinogradKernelTest, MatchesTheDefinition) {
  struct Geometry {
    int64_t cin, h, w, cout;
    int pad;
  };
  // cnn-bn's conv2; odd sizes with partial tiles at the right and bottom;
  // no padding; output channels that are not whole blocks of 64 or 16;
  // enough tiles for several blocks a thread, and fewer than one block.
  const Geometry geometries[] = {
      {32, 14, 14, 64, 1}, {8, 7, 9, 16, 1},   {13, 9, 11, 40, 0},
      {17, 6, 6, 80, 1},   {24, 20, 3, 24, 1}, {9, 4, 4, 112, 1},
  };
  const BnAct acts[] = {BnAct::kNone, BnAct::kRelu, BnAct::kRelu6, BnAct::kHardSwish,
                        BnAct::kHardSigmoid};
  uint64_t seed = 1;
  for (const Geometry& g : geometries)
    for (int tile : {2, 4})
      for (bool pool : {false, true})
        for (BnAct act : acts)
          for (int threads : {1, 2}) {
            WinogradShape s{g.cin, g.h, g.w, g.cout, g.pad, g.pad, pool, tile};
            ASSERT_TRUE(WinogradApplies(s));
            SCOPED_TRACE(::testing::Message()
                         << "F(" << tile << "x" << tile << ") cin " << g.cin << " " << g.h << "x"
                         << g.w << " cout " << g.cout << " pad " << g.pad << " pool " << pool
                         << " act " << int(act) << " threads " << threads);
            Check(s, act, threads, seed++);
          }
}

TEST(WinogradKernelTest, PicksTheTileOfFewerProducts) {
  // cnn-bn's conv2: 16 F(4x4) tiles (576 products) against 49 F(2x2)
  // (784), pooled or not.
  EXPECT_EQ(WinogradTile(WinogradShape{32, 14, 14, 64, 1, 1, true}), 4);
  EXPECT_EQ(WinogradTile(WinogradShape{32, 14, 14, 64, 1, 1, false}), 4);
  // A 2x2 output: one tile either way, 16 products against 36.
  EXPECT_EQ(WinogradTile(WinogradShape{32, 2, 2, 64, 1, 1, false}), 2);
  // 6x6: 9 F(2x2) tiles (144) against 4 F(4x4) (144): not worth F(4x4)'s
  // transforms.
  EXPECT_EQ(WinogradTile(WinogradShape{32, 6, 6, 64, 1, 1, false}), 2);
}

TEST(WinogradKernelTest, AppliesOnlyWhereItPays) {
  EXPECT_TRUE(WinogradApplies(WinogradShape{32, 14, 14, 64, 1, 1, true}));
  EXPECT_FALSE(WinogradApplies(WinogradShape{4, 14, 14, 64, 1, 1, false}));   // few inputs
  EXPECT_FALSE(WinogradApplies(WinogradShape{32, 14, 14, 8, 1, 1, false}));   // few outputs
  EXPECT_FALSE(WinogradApplies(WinogradShape{32, 14, 14, 64, 2, 2, false}));  // padding 2
  EXPECT_FALSE(WinogradApplies(WinogradShape{32, 2, 2, 64, 0, 0, false}));    // 0x0 output
}

}  // namespace
}  // namespace edgenas
