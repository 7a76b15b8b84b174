#include "runtime/exec/kernels/dw_conv_grad.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace edgenas {
namespace {

constexpr int64_t kB = 16;

int64_t Blocks(int64_t c) { return (c + kB - 1) / kB; }

// Index of (n, c, h, w) in nChw16c.
int64_t Blocked(int64_t n, int64_t c, int64_t h, int64_t w, int64_t channels, int64_t height,
                int64_t width) {
  return (((n * Blocks(channels) + c / kB) * height + h) * width + w) * kB + c % kB;
}

struct DwGradCase {
  int64_t batch, channels, in_h, in_w, kh, kw, sh, sw, dh, dw, ph, pw;
};

// The definition, in double, straight from the sum.
void Reference(const DepthwiseGeometry& g, const std::vector<float>& x,
               const std::vector<float>& dy, std::vector<double>* dwt, std::vector<double>* db) {
  dwt->assign(g.channels * g.kernel_h * g.kernel_w, 0.0);
  db->assign(g.channels, 0.0);
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < g.channels; ++c)
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          const double d = dy[Blocked(n, c, oh, ow, g.channels, g.out_h, g.out_w)];
          (*db)[c] += d;
          for (int64_t kh = 0; kh < g.kernel_h; ++kh)
            for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
              const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h;
              const int64_t iw = ow * g.stride_w - g.pad_w + kw * g.dilation_w;
              if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) continue;
              (*dwt)[(c * g.kernel_h + kh) * g.kernel_w + kw] +=
                  d * x[Blocked(n, c, ih, iw, g.channels, g.in_h, g.in_w)];
            }
        }
}

TEST(DepthwiseConvBackwardWeightsTest, MatchesTheDefinitionOnManyGeometries) {
  const std::vector<DwGradCase> cases = {
      {4, 32, 28, 28, 5, 5, 1, 1, 1, 1, 2, 2},  // the search space's 5x5, "same"
      {3, 20, 9, 11, 5, 5, 2, 2, 1, 1, 2, 2},   // channels not a multiple of 16, stride 2
      {2, 16, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1},    // 3x3
      {2, 17, 12, 10, 7, 7, 1, 2, 1, 1, 3, 3},  // 7x7, unequal strides
      {2, 8, 13, 13, 5, 5, 2, 2, 2, 2, 4, 4},   // dilated
      {1, 16, 8, 9, 3, 5, 1, 1, 1, 1, 1, 2},    // rectangular
      {2, 5, 10, 10, 4, 6, 2, 1, 1, 1, 0, 1},   // widths the kernel has no fixed loop for
      {1, 16, 6, 6, 5, 5, 1, 1, 1, 1, 0, 0},    // no padding
  };
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const DwGradCase& k : cases) {
    DepthwiseGeometry g;
    g.batch = k.batch, g.channels = k.channels, g.in_h = k.in_h, g.in_w = k.in_w;
    g.kernel_h = k.kh, g.kernel_w = k.kw, g.stride_h = k.sh, g.stride_w = k.sw;
    g.dilation_h = k.dh, g.dilation_w = k.dw, g.pad_h = k.ph, g.pad_w = k.pw;
    g.out_h = (k.in_h + 2 * k.ph - ((k.kh - 1) * k.dh + 1)) / k.sh + 1;
    g.out_w = (k.in_w + 2 * k.pw - ((k.kw - 1) * k.dw + 1)) / k.sw + 1;
    std::vector<float> x(g.batch * Blocks(g.channels) * kB * g.in_h * g.in_w);
    std::vector<float> dy(g.batch * Blocks(g.channels) * kB * g.out_h * g.out_w);
    for (float& v : x) v = u(rng);
    for (float& v : dy) v = u(rng);
    std::vector<float> dwt(g.channels * g.kernel_h * g.kernel_w, 123.0f), db(g.channels, 123.0f);
    DepthwiseConvBackwardWeights(g, x.data(), dy.data(), dwt.data(), db.data());
    std::vector<double> want_w, want_b;
    Reference(g, x, dy, &want_w, &want_b);
    const std::string where = "kernel " + std::to_string(k.kh) + "x" + std::to_string(k.kw) +
                              ", channels " + std::to_string(k.channels);
    for (size_t i = 0; i < want_w.size(); ++i)
      ASSERT_NEAR(dwt[i], want_w[i], 1e-4 * (1 + std::fabs(want_w[i]))) << where << " weight " << i;
    for (size_t i = 0; i < want_b.size(); ++i)
      ASSERT_NEAR(db[i], want_b[i], 1e-4 * (1 + std::fabs(want_b[i]))) << where << " bias " << i;
    // Without a bias, the weights come out the same.
    std::vector<float> again(dwt.size(), -5.0f);
    DepthwiseConvBackwardWeights(g, x.data(), dy.data(), again.data(), nullptr);
    EXPECT_EQ(again, dwt) << where;
  }
}

}  // namespace
}  // namespace edgenas
