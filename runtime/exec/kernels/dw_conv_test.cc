#include "runtime/exec/kernels/dw_conv.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/testing/act_reference.h"

namespace edgenas {
namespace {

DepthwiseGeometry Geometry(int64_t c, int64_t h, int64_t w, int k, int stride, int pad) {
  DepthwiseGeometry g;
  g.channels = c, g.in_h = h, g.in_w = w;
  g.kernel_h = g.kernel_w = k, g.stride_h = g.stride_w = stride, g.pad_h = g.pad_w = pad;
  g.out_h = (h + 2 * pad - k) / stride + 1;
  g.out_w = (w + 2 * pad - k) / stride + 1;
  return g;
}

// Runs the kernel on `threads` threads against the definition in double.
void Check(const DepthwiseGeometry& g, BnAct act, int threads, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  const int64_t c = g.channels, kk = g.kernel_h * g.kernel_w;
  std::vector<float> x(g.in_h * g.in_w * c), w(c * kk), bias(c);
  for (float& v : x) v = n(rng);
  for (float& v : w) v = n(rng);
  for (float& v : bias) v = n(rng);
  // Weights as the kernel reads them: [C/16][KH][KW][16].
  std::vector<float> wk(w.size());
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t k = 0; k < kk; ++k) wk[((ch / 16) * kk + k) * 16 + ch % 16] = w[ch * kk + k];
  const int64_t size = g.out_h * g.out_w * c;
  std::vector<float> y(size + 64, 1234.5f);
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  DepthwiseConvForward(g, act, x.data(), wk.data(), bias.data(), y.data());
  omp_set_num_threads(before);
  for (int64_t oh = 0; oh < g.out_h; ++oh)
    for (int64_t ow = 0; ow < g.out_w; ++ow)
      for (int64_t ch = 0; ch < c; ++ch) {
        double sum = bias[ch];
        for (int64_t ky = 0; ky < g.kernel_h; ++ky)
          for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
            const int64_t ih = oh * g.stride_h - g.pad_h + ky, iw = ow * g.stride_w - g.pad_w + kx;
            if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) continue;
            sum += double(x[(ih * g.in_w + iw) * c + ch]) * w[ch * kk + ky * g.kernel_w + kx];
          }
        const double want = testing::ReferenceAct(act, sum);
        const float got = y[(oh * g.out_w + ow) * c + ch];
        ASSERT_NEAR(got, want, 1e-5 * (1 + std::abs(want)))
            << "at " << oh << "," << ow << " channel " << ch;
      }
  for (int64_t i = size; i < size + 64; ++i) ASSERT_EQ(y[i], 1234.5f) << "written past the end";
}

TEST(DepthwiseForwardTest, MatchesTheDefinition) {
  // 3x3 at stride 1 and 2 (widths giving every group size, and the edge
  // and inside paths), padding 0 and 1; 5x5 and 3x3 at stride 3 take the
  // general path.
  const DepthwiseGeometry geometries[] = {
      Geometry(16, 28, 28, 3, 2, 1), Geometry(512, 7, 7, 3, 1, 1),  Geometry(32, 14, 14, 3, 2, 1),
      Geometry(48, 9, 17, 3, 1, 1),  Geometry(16, 5, 23, 3, 2, 0),  Geometry(32, 6, 1, 3, 1, 1),
      Geometry(16, 3, 12, 3, 1, 0),  Geometry(32, 11, 10, 5, 1, 2), Geometry(16, 9, 9, 3, 3, 1),
  };
  const BnAct acts[] = {BnAct::kNone, BnAct::kRelu, BnAct::kRelu6, BnAct::kHardSwish,
                        BnAct::kHardSigmoid};
  uint64_t seed = 1;
  for (const DepthwiseGeometry& g : geometries)
    for (BnAct act : acts)
      for (int threads : {1, 2}) {
        ASSERT_TRUE(DepthwiseForwardApplies(g));
        SCOPED_TRACE(::testing::Message()
                     << g.channels << " channels " << g.in_h << "x" << g.in_w << " k" << g.kernel_h
                     << " s" << g.stride_h << " p" << g.pad_h << " act " << int(act) << " threads "
                     << threads);
        Check(g, act, threads, seed++);
      }
}

TEST(DepthwiseForwardTest, Limits) {
  DepthwiseGeometry g = Geometry(16, 7, 7, 3, 1, 1);
  EXPECT_TRUE(DepthwiseForwardApplies(g));
  g.channels = 20;  // not whole vectors of 16 in a channels-last row
  EXPECT_FALSE(DepthwiseForwardApplies(g));
  g = Geometry(16, 7, 7, 3, 1, 1);
  g.dilation_h = 2;
  EXPECT_FALSE(DepthwiseForwardApplies(g));
  g = Geometry(16, 7, 7, 3, 1, 1);
  g.batch = 2;
  EXPECT_FALSE(DepthwiseForwardApplies(g));
}

}  // namespace
}  // namespace edgenas
