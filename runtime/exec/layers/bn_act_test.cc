#include "runtime/exec/layers/bn_act.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace edgenas {
namespace {

constexpr int64_t kBlock = 16;

double ActD(BnAct a, double z) {
  switch (a) {
    case BnAct::kRelu6:
      return std::min(std::max(z, 0.0), 6.0);
    case BnAct::kHardSwish:
      return z * std::min(std::max(z + 3, 0.0), 6.0) / 6;
    case BnAct::kHardSigmoid:
      return std::min(std::max(z + 3, 0.0), 6.0) / 6;
  }
  return 0;
}

double ActGradD(BnAct a, double z) {
  switch (a) {
    case BnAct::kRelu6:
      return z > 0 && z < 6 ? 1 : 0;
    case BnAct::kHardSwish:
      return z >= 3 ? 1 : z > -3 ? (2 * z + 3) / 6 : 0;
    case BnAct::kHardSigmoid:
      return z > -3 && z < 3 ? 1.0 / 6 : 0;
  }
  return 0;
}

// A geometry, its tensors in nChw16c and the same values as [n][c][i].
struct Case {
  BnActShape s;
  int64_t blocks;
  std::vector<float> x, gamma, beta, dy;  // x and dy blocked, padding lanes 0

  int64_t At(int64_t n, int64_t c, int64_t i) const {
    return ((n * blocks + c / kBlock) * s.spatial + i) * kBlock + c % kBlock;
  }
};

Case MakeCase(int64_t batch, int64_t channels, int64_t spatial, float offset, uint64_t seed) {
  Case k;
  k.s = BnActShape{batch, channels, spatial};
  k.blocks = (channels + kBlock - 1) / kBlock;
  const size_t size = batch * k.blocks * spatial * kBlock;
  k.x.assign(size, 0.0f);
  k.dy.assign(size, 0.0f);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < spatial; ++i) {
        k.x[k.At(n, c, i)] = offset + (1 + 0.1f * c) * nd(rng);
        k.dy[k.At(n, c, i)] = nd(rng);
      }
  for (int64_t c = 0; c < channels; ++c) {
    k.gamma.push_back(1.5f + 0.5f * nd(rng));
    k.beta.push_back(0.5f * nd(rng) + (c % 3) - 1.0f);  // some channels mostly in a flat part
  }
  return k;
}

struct Reference {
  std::vector<double> y, mean, var, dx, dgamma, dbeta;
};

// The definition, in double, one channel at a time.
Reference Expected(const Case& k, BnAct a, double eps) {
  Reference r;
  const int64_t m = k.s.batch * k.s.spatial;
  r.y.assign(k.x.size(), 0.0);
  r.dx.assign(k.x.size(), 0.0);
  for (int64_t c = 0; c < k.s.channels; ++c) {
    double mean = 0, var = 0;
    for (int64_t n = 0; n < k.s.batch; ++n)
      for (int64_t i = 0; i < k.s.spatial; ++i) mean += k.x[k.At(n, c, i)];
    mean /= m;
    for (int64_t n = 0; n < k.s.batch; ++n)
      for (int64_t i = 0; i < k.s.spatial; ++i) var += std::pow(k.x[k.At(n, c, i)] - mean, 2);
    var /= m;
    const double rs = 1 / std::sqrt(var + eps);
    double sd = 0, sdx = 0;
    std::vector<double> dz(m), xh(m);
    for (int64_t n = 0; n < k.s.batch; ++n)
      for (int64_t i = 0; i < k.s.spatial; ++i) {
        const int64_t j = n * k.s.spatial + i, at = k.At(n, c, i);
        xh[j] = (k.x[at] - mean) * rs;
        const double z = xh[j] * k.gamma[c] + k.beta[c];
        r.y[at] = ActD(a, z);
        dz[j] = k.dy[at] * ActGradD(a, z);
        sd += dz[j];
        sdx += dz[j] * xh[j];
      }
    for (int64_t n = 0; n < k.s.batch; ++n)
      for (int64_t i = 0; i < k.s.spatial; ++i) {
        const int64_t j = n * k.s.spatial + i;
        r.dx[k.At(n, c, i)] = k.gamma[c] * rs * (dz[j] - sd / m - xh[j] * sdx / m);
      }
    r.mean.push_back(mean);
    r.var.push_back(var);
    r.dgamma.push_back(sdx);
    r.dbeta.push_back(sd);
  }
  return r;
}

void ExpectMatches(int64_t batch, int64_t channels, int64_t spatial, float offset, BnAct a) {
  SCOPED_TRACE(::testing::Message()
               << "batch " << batch << " channels " << channels << " spatial " << spatial
               << " offset " << offset << " act " << static_cast<int>(a));
  const Case k = MakeCase(batch, channels, spatial, offset, 7 + channels);
  const float eps = 1e-5f;
  const Reference want = Expected(k, a, eps);
  std::vector<float> out(2 * k.x.size(), -1.0f);  // y, dx; the padding must become 0
  float* y = out.data();
  float* dx = y + k.x.size();
  std::vector<float> stats(5 * channels);  // mean, var, inv_std, dgamma, dbeta
  float* mean = stats.data();
  float* var = mean + channels;
  float* inv_std = var + channels;
  float* dg = inv_std + channels;
  float* db = dg + channels;
  BnActForward(k.s, a, eps, k.x.data(), k.gamma.data(), k.beta.data(), y, mean, var, inv_std);
  BnActBackward(k.s, a, k.x.data(), k.dy.data(), k.gamma.data(), k.beta.data(), mean, inv_std, dx,
                dg, db);
  for (int64_t c = 0; c < channels; ++c) {
    ASSERT_NEAR(mean[c], want.mean[c], 1e-5 * (1 + std::fabs(want.mean[c]))) << "channel " << c;
    ASSERT_NEAR(var[c], want.var[c], 1e-4 * want.var[c]) << "channel " << c;
    ASSERT_NEAR(inv_std[c], 1 / std::sqrt(want.var[c] + eps), 1e-4 * inv_std[c]) << c;
    ASSERT_NEAR(dg[c], want.dgamma[c], 2e-3 * (1 + std::fabs(want.dgamma[c]))) << c;
    ASSERT_NEAR(db[c], want.dbeta[c], 2e-3 * (1 + std::fabs(want.dbeta[c]))) << c;
  }
  for (size_t i = 0; i < k.x.size(); ++i) {
    ASSERT_NEAR(y[i], want.y[i], 1e-4 * (1 + std::fabs(want.y[i]))) << "y[" << i << "]";
    ASSERT_NEAR(dx[i], want.dx[i], 2e-3 * (1 + std::fabs(want.dx[i]))) << "dx[" << i << "]";
  }
}

TEST(BnActTest, MatchesTheDefinition) {
  for (BnAct a : {BnAct::kRelu6, BnAct::kHardSwish, BnAct::kHardSigmoid}) {
    ExpectMatches(4, 16, 49, 0.0f, a);  // one whole block
    ExpectMatches(3, 20, 25, 0.0f, a);  // a padded second block
    ExpectMatches(2, 7, 1, 0.0f, a);    // 1x1 images, one padded block
    ExpectMatches(1, 40, 64, 0.0f, a);  // batch 1
  }
}

// A mean far from 0 against its spread: sums of x and x^2 would cancel.
TEST(BnActTest, ALargeMeanDoesNotCancelTheVariance) {
  ExpectMatches(8, 24, 36, 1000.0f, BnAct::kRelu6);
}

TEST(BnActTest, SupportsExactlyTheActivationsOneDnnCannotFuse) {
  BnAct a;
  EXPECT_TRUE(BnActSupports(OpKind::kRelu6, &a));
  EXPECT_EQ(a, BnAct::kRelu6);
  EXPECT_TRUE(BnActSupports(OpKind::kHardSwish, &a));
  EXPECT_EQ(a, BnAct::kHardSwish);
  EXPECT_TRUE(BnActSupports(OpKind::kHardSigmoid, &a));
  EXPECT_EQ(a, BnAct::kHardSigmoid);
  EXPECT_FALSE(BnActSupports(OpKind::kRelu, &a));  // oneDNN's batch norm does it
  EXPECT_FALSE(BnActSupports(OpKind::kTanh, &a));
}

}  // namespace
}  // namespace edgenas
