#include "runtime/exec/kernels/winograd_train.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace edgenas {
namespace {

// Where value (n, c, y, x) lies in nChw16c.
int64_t At(const WinogradTrainShape& s, int64_t channels, int64_t n, int64_t c, int64_t y,
           int64_t x) {
  return ((n * (channels / 16) + c / 16) * s.height * s.width + y * s.width + x) * 16 + c % 16;
}

// The definitions, in double, with the sum of the terms' magnitudes beside
// each value (the scale its rounding error is measured against):
//   y[n][co][i][j] = bias[co] + sum x[n][ci][i + a - 1][j + b - 1] w[co][ci][a][b],
//   dx = the adjoint of that in x, dw and dbias the same in w and bias.
struct Expected {
  std::vector<double> y, y_scale, dx, dx_scale, dw, dw_scale, db;
};

Expected Reference(const WinogradTrainShape& s, const std::vector<float>& x,
                   const std::vector<float>& w, const std::vector<float>& bias,
                   const std::vector<float>& dy) {
  const int64_t ci_n = s.in_channels, co_n = s.out_channels, h = s.height, wd = s.width;
  Expected e;
  e.y.assign(dy.size(), 0.0);
  e.y_scale.assign(dy.size(), 0.0);
  e.dx.assign(x.size(), 0.0);
  e.dx_scale.assign(x.size(), 0.0);
  e.dw.assign(w.size(), 0.0);
  e.dw_scale.assign(w.size(), 0.0);
  e.db.assign(co_n, 0.0);
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t co = 0; co < co_n; ++co)
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < wd; ++j) {
          const int64_t o = At(s, co_n, n, co, i, j);
          e.y[o] = bias[co];
          e.y_scale[o] = std::fabs(bias[co]);
          e.db[co] += dy[o];
          for (int64_t ci = 0; ci < ci_n; ++ci)
            for (int a = 0; a < 3; ++a)
              for (int b = 0; b < 3; ++b) {
                const int64_t iy = i + a - 1, ix = j + b - 1;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                const int64_t xi = At(s, ci_n, n, ci, iy, ix),
                              wi = ((co * ci_n + ci) * 3 + a) * 3 + b;
                e.y[o] += double(x[xi]) * w[wi];
                e.y_scale[o] += std::fabs(double(x[xi]) * w[wi]);
                e.dx[xi] += double(dy[o]) * w[wi];
                e.dx_scale[xi] += std::fabs(double(dy[o]) * w[wi]);
                e.dw[wi] += double(dy[o]) * x[xi];
                e.dw_scale[wi] += std::fabs(double(dy[o]) * x[xi]);
              }
        }
  return e;
}

// The largest |got - want| / (scale + 1e-3): rounding error as a share of
// the terms that were summed.
double WorstError(const std::vector<float>& got, const std::vector<double>& want,
                  const std::vector<double>& scale) {
  double worst = 0.0;
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::fabs(got[i] - want[i]) / (scale[i] + 1e-3));
  return worst;
}

void Check(const WinogradTrainShape& s, int threads, uint64_t seed) {
  SCOPED_TRACE(::testing::Message()
               << "batch " << s.batch << ", " << s.in_channels << " -> " << s.out_channels
               << " channels, " << s.height << "x" << s.width << ", " << threads << " threads");
  ASSERT_TRUE(WinogradTrainApplies(s));
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto fill = [&](size_t size) {
    std::vector<float> v(size);
    for (float& f : v) f = normal(rng);
    return v;
  };
  const int64_t plane = s.height * s.width;
  const std::vector<float> x = fill(s.batch * s.in_channels * plane),
                           w = fill(s.out_channels * s.in_channels * 9),
                           bias = fill(s.out_channels), dy = fill(s.batch * s.out_channels * plane);
  const Expected e = Reference(s, x, w, bias, dy);

  omp_set_num_threads(threads);
  std::vector<float> u(s.u_floats()), scratch(s.scratch_floats(threads), NAN);
  std::vector<float> y(dy.size(), NAN), dx(x.size(), NAN), dw(w.size(), NAN),
      db(s.out_channels, NAN);
  WinogradTrainForward(s, x.data(), w.data(), bias.data(), u.data(), scratch.data(), threads,
                       y.data());
  WinogradTrainBackwardData(s, dy.data(), w.data(), u.data(), scratch.data(), threads, dx.data());
  WinogradTrainBackwardWeights(s, x.data(), dy.data(), scratch.data(), threads, dw.data(),
                               db.data());
  // F(4x4, 3x3) in float amplifies rounding: measured here up to 4e-6 of
  // the summed terms' magnitude for y and dx, 1.6e-5 for dw (the tiny
  // images, whose few terms pass through the transforms' 4s and 8s). A
  // wrong tap, channel or tile is of the order of 1.
  EXPECT_LT(WorstError(y, e.y, e.y_scale), 1e-4);
  EXPECT_LT(WorstError(dx, e.dx, e.dx_scale), 1e-4);
  EXPECT_LT(WorstError(dw, e.dw, e.dw_scale), 1e-4);
  for (int64_t co = 0; co < s.out_channels; ++co)
    EXPECT_NEAR(db[co], e.db[co], 1e-4 * (1 + std::fabs(e.db[co]))) << "channel " << co;
}

TEST(WinogradTrainTest, MatchesTheDefinitionForwardAndBackward) {
  const WinogradTrainShape shapes[] = {
      {2, 16, 16, 4, 4},    // one tile an image
      {3, 32, 64, 14, 14},  // cnn-bn's conv2; the edge tiles half outside
      {2, 16, 48, 7, 5},    // three vector blocks of outputs
      {1, 48, 16, 9, 11},   // one of inputs; rows of 6 channels in the weight gradient
      {2, 32, 80, 2, 3},    // 4 + 1 vector blocks; tiles mostly outside
      {9, 16, 32, 6, 6},    // more tiles than one chunk per thread
  };
  uint64_t seed = 1;
  for (const WinogradTrainShape& s : shapes)
    for (int threads : {1, 2, 3}) Check(s, threads, seed++);
}

TEST(WinogradTrainTest, AppliesToChannelsInVectorBlocks) {
  EXPECT_TRUE(WinogradTrainApplies({64, 32, 64, 14, 14}));
  EXPECT_FALSE(WinogradTrainApplies({64, 24, 64, 14, 14}));
  EXPECT_FALSE(WinogradTrainApplies({64, 32, 8, 14, 14}));
  EXPECT_FALSE(WinogradTrainApplies({64, 32, 64, 1, 14}));
}

}  // namespace
}  // namespace edgenas
