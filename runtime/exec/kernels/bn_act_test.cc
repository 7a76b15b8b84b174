#include "runtime/exec/kernels/bn_act.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/testing/act_reference.h"

namespace edgenas {
namespace {

constexpr int64_t kBlock = 16;

double ActGradD(BnAct a, double z) {
  switch (a) {
    case BnAct::kNone:
      return 1;
    case BnAct::kRelu:
      return z > 0 ? 1 : 0;
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
        r.y[at] = testing::ReferenceAct(a, z);
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

TEST(BnActTest, PoolSupportsReluToo) {
  BnAct a;
  EXPECT_TRUE(BnActPoolSupports(OpKind::kRelu, &a));
  EXPECT_EQ(a, BnAct::kRelu);
  EXPECT_TRUE(BnActPoolSupports(OpKind::kHardSwish, &a));
  EXPECT_EQ(a, BnAct::kHardSwish);
  EXPECT_FALSE(BnActPoolSupports(OpKind::kSigmoid, &a));
}

// Batch norm, activation and max pool against the definition in double:
// the pool takes the first largest activated value of each window.
void ExpectPoolMatches(const BnPoolShape& s, float offset, BnAct a) {
  SCOPED_TRACE(::testing::Message()
               << "batch " << s.batch << " channels " << s.channels << " " << s.height << "x"
               << s.width << " window " << s.kernel_h << "x" << s.kernel_w << " offset " << offset
               << " act " << static_cast<int>(a));
  const int64_t spatial = s.height * s.width, ph = s.pooled_h(), pw = s.pooled_w();
  // x and gamma, beta from the plain case; dy at the pooled size.
  const Case k = MakeCase(s.batch, s.channels, spatial, offset, 11 + s.channels);
  const Case kp = MakeCase(s.batch, s.channels, ph * pw, 0.0f, 13 + s.channels);
  const int64_t m = s.batch * spatial;
  const double eps = 1e-5;
  std::vector<double> want_y(kp.x.size(), 0.0), want_dx(k.x.size(), 0.0);
  std::vector<double> want_dg(s.channels), want_db(s.channels);
  for (int64_t c = 0; c < s.channels; ++c) {
    double mean = 0, var = 0;
    for (int64_t n = 0; n < s.batch; ++n)
      for (int64_t i = 0; i < spatial; ++i) mean += k.x[k.At(n, c, i)];
    mean /= m;
    for (int64_t n = 0; n < s.batch; ++n)
      for (int64_t i = 0; i < spatial; ++i) var += std::pow(k.x[k.At(n, c, i)] - mean, 2);
    var /= m;
    const double rs = 1 / std::sqrt(var + eps);
    auto xhat = [&](int64_t n, int64_t i) { return (k.x[k.At(n, c, i)] - mean) * rs; };
    std::vector<double> dz(m, 0.0);  // [n][h][w]: nonzero at the chosen positions only
    double sd = 0, sdx = 0;
    for (int64_t n = 0; n < s.batch; ++n)
      for (int64_t oh = 0; oh < ph; ++oh)
        for (int64_t ow = 0; ow < pw; ++ow) {
          int64_t best = -1;
          double best_a = 0;
          for (int i = 0; i < s.kernel_h; ++i)
            for (int j = 0; j < s.kernel_w; ++j) {
              const int64_t at = (oh * s.kernel_h + i) * s.width + ow * s.kernel_w + j;
              const double act = testing::ReferenceAct(a, xhat(n, at) * k.gamma[c] + k.beta[c]);
              if (best < 0 || act > best_a) best = at, best_a = act;
            }
          const int64_t o = kp.At(n, c, oh * pw + ow);
          want_y[o] = best_a;
          const double d = kp.dy[o] * ActGradD(a, xhat(n, best) * k.gamma[c] + k.beta[c]);
          dz[n * spatial + best] = d;
          sd += d;
          sdx += d * xhat(n, best);
        }
    for (int64_t n = 0; n < s.batch; ++n)
      for (int64_t i = 0; i < spatial; ++i)
        want_dx[k.At(n, c, i)] =
            k.gamma[c] * rs * (dz[n * spatial + i] - sd / m - xhat(n, i) * sdx / m);
    want_dg[c] = sdx;
    want_db[c] = sd;
  }
  std::vector<float> y(kp.x.size(), -1.0f), xh(kp.x.size()), where(kp.x.size()),
      scratch(kp.x.size());
  std::vector<float> dx(k.x.size(), -1.0f);  // the padding lanes must become 0
  std::vector<float> mean(s.channels), var(s.channels), inv_std(s.channels), dg(s.channels),
      db(s.channels);
  BnActPoolForward(s, a, static_cast<float>(eps), k.x.data(), k.gamma.data(), k.beta.data(),
                   y.data(), xh.data(), where.data(), mean.data(), var.data(), inv_std.data());
  BnActPoolBackward(s, a, k.x.data(), kp.dy.data(), xh.data(), where.data(), k.gamma.data(),
                    k.beta.data(), mean.data(), inv_std.data(), scratch.data(), dx.data(),
                    dg.data(), db.data());
  for (int64_t c = 0; c < s.channels; ++c) {
    ASSERT_NEAR(dg[c], want_dg[c], 2e-3 * (1 + std::fabs(want_dg[c]))) << "channel " << c;
    ASSERT_NEAR(db[c], want_db[c], 2e-3 * (1 + std::fabs(want_db[c]))) << "channel " << c;
  }
  for (size_t i = 0; i < y.size(); ++i)
    ASSERT_NEAR(y[i], want_y[i], 1e-4 * (1 + std::fabs(want_y[i]))) << "y[" << i << "]";
  for (size_t i = 0; i < dx.size(); ++i)
    ASSERT_NEAR(dx[i], want_dx[i], 2e-3 * (1 + std::fabs(want_dx[i]))) << "dx[" << i << "]";
}

TEST(BnActTest, PoolMatchesTheDefinition) {
  for (BnAct a :
       {BnAct::kNone, BnAct::kRelu, BnAct::kRelu6, BnAct::kHardSwish, BnAct::kHardSigmoid}) {
    ExpectPoolMatches(BnPoolShape{4, 16, 8, 8, 2, 2}, 0.0f, a);  // one whole block
    ExpectPoolMatches(BnPoolShape{3, 20, 7, 9, 2, 2}, 0.0f, a);  // padded block, odd sizes
    ExpectPoolMatches(BnPoolShape{2, 16, 9, 9, 3, 3}, 0.0f, a);  // a 3x3 window
    ExpectPoolMatches(BnPoolShape{2, 8, 8, 6, 4, 2}, 0.0f, a);   // any other window
    ExpectPoolMatches(BnPoolShape{1, 32, 4, 4, 2, 2}, 0.0f, a);  // batch 1
  }
  ExpectPoolMatches(BnPoolShape{8, 24, 6, 6, 2, 2}, 1000.0f, BnAct::kRelu);  // a large mean
}

}  // namespace
}  // namespace edgenas
