#include "runtime/exec/kernels/small_conv.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/testing/act_reference.h"

namespace edgenas {
namespace {

SmallConvShape Shape(int64_t ci, int64_t h, int64_t w, int64_t co, int k, int stride, int pad,
                     bool pool) {
  SmallConvShape s;
  s.in_channels = ci, s.height = h, s.width = w, s.out_channels = co;
  s.kernel_h = s.kernel_w = k, s.stride_h = s.stride_w = stride, s.pad_h = s.pad_w = pad;
  s.out_height = (h + 2 * pad - k) / stride + 1;
  s.out_width = (w + 2 * pad - k) / stride + 1;
  s.pool = pool;
  return s;
}

// Runs the kernel on `threads` threads (its scratch sized for `parts`)
// against the definition in double: correlation with zero padding, bias,
// activation, then the 2x2 stride-2 max pool.
void Check(const SmallConvShape& s, BnAct act, int threads, int parts, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  const int64_t ci = s.in_channels, co = s.out_channels, cop = s.padded_out();
  const int64_t kk = s.kernel_h * s.kernel_w;
  std::vector<float> x(ci * s.height * s.width), w(co * ci * kk), bias(cop, 0.0f);
  for (float& v : x) v = n(rng);
  for (float& v : w) v = n(rng);
  for (int64_t c = 0; c < co; ++c) bias[c] = n(rng);
  // Weights as the kernel reads them: [KH][KW][CI][CO padded to 16].
  std::vector<float> wk(kk * ci * cop, 0.0f);
  for (int64_t o = 0; o < co; ++o)
    for (int64_t i = 0; i < ci; ++i)
      for (int64_t k = 0; k < kk; ++k) wk[(k * ci + i) * cop + o] = w[(o * ci + i) * kk + k];
  const int64_t oh = s.pool ? s.out_height / 2 : s.out_height;
  const int64_t ow = s.pool ? s.out_width / 2 : s.out_width;
  const int64_t size = oh * ow * co;
  std::vector<float> y(size + 64, 1234.5f);
  std::vector<float> scratch(s.scratch_floats(parts) + 64, -777.0f);
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  SmallConvForward(s, act, x.data(), wk.data(), bias.data(),
                   scratch.size() > 64 ? scratch.data() : nullptr, parts, y.data());
  omp_set_num_threads(before);
  auto conv = [&](int64_t r, int64_t c, int64_t o) {
    double sum = bias[o];
    for (int64_t i = 0; i < ci; ++i)
      for (int ky = 0; ky < s.kernel_h; ++ky)
        for (int kx = 0; kx < s.kernel_w; ++kx) {
          const int64_t ih = r * s.stride_h - s.pad_h + ky * s.dilation_h;
          const int64_t iw = c * s.stride_w - s.pad_w + kx * s.dilation_w;
          if (ih < 0 || ih >= s.height || iw < 0 || iw >= s.width) continue;
          sum += double(x[(i * s.height + ih) * s.width + iw]) *
                 w[((o * ci + i) * s.kernel_h + ky) * s.kernel_w + kx];
        }
    return testing::ReferenceAct(act, sum);
  };
  for (int64_t r = 0; r < oh; ++r)
    for (int64_t c = 0; c < ow; ++c)
      for (int64_t o = 0; o < co; ++o) {
        double want = 0;
        if (s.pool) {
          want = std::max(std::max(conv(2 * r, 2 * c, o), conv(2 * r, 2 * c + 1, o)),
                          std::max(conv(2 * r + 1, 2 * c, o), conv(2 * r + 1, 2 * c + 1, o)));
        } else {
          want = conv(r, c, o);
        }
        const float got = y[(r * ow + c) * co + o];
        ASSERT_NEAR(got, want, 1e-4 * (1 + std::abs(want)))
            << "row " << r << " col " << c << " channel " << o << " act " << static_cast<int>(act)
            << " threads " << threads;
      }
  for (int64_t i = size; i < static_cast<int64_t>(y.size()); ++i)
    ASSERT_EQ(y[i], 1234.5f) << "written past the output at " << i;
  for (size_t i = scratch.size() - 64; i < scratch.size(); ++i)
    ASSERT_EQ(scratch[i], -777.0f) << "written past the scratch at " << i;
}

const BnAct kActs[] = {BnAct::kNone, BnAct::kRelu, BnAct::kRelu6, BnAct::kHardSwish,
                       BnAct::kHardSigmoid};

// The 3x3 stride-1 path: rows wider and narrower than a pixel group, the
// last group of a row overlapping the one before it, channel counts that
// are not whole vectors, padding 0, 1 and 2, odd sizes under the pool, the
// pool taken in registers (up to 32 channels) or through scratch rows.
TEST(SmallConvTest, ThreeByThreeMatchesTheDefinition) {
  const SmallConvShape shapes[] = {
      Shape(1, 28, 28, 32, 3, 1, 1, true),   // cnn-bn's conv1 + pool1
      Shape(1, 28, 28, 16, 3, 1, 1, false),  // mobile-tiny's stem
      Shape(3, 9, 11, 24, 3, 1, 1, false),
      Shape(3, 9, 11, 24, 3, 1, 1, true),
      Shape(2, 5, 5, 48, 3, 1, 0, false),
      Shape(1, 7, 17, 64, 3, 1, 2, true),
      Shape(4, 6, 30, 40, 3, 1, 1, false),
      Shape(1, 3, 3, 8, 3, 1, 1, false),
      // The pool in registers: 16 channels (8 columns a group), a width
      // that is not a whole number of groups, and one narrower than a group.
      Shape(2, 10, 13, 16, 3, 1, 1, true),
      Shape(1, 6, 6, 16, 3, 1, 1, true),
      Shape(1, 9, 9, 20, 3, 1, 0, true),
  };
  uint64_t seed = 1;
  for (const SmallConvShape& s : shapes)
    for (BnAct act : kActs)
      for (int threads : {1, 2}) Check(s, act, threads, 2, seed++);
}

// Other kernels and strides take the general path.
TEST(SmallConvTest, OtherKernelsMatchTheDefinition) {
  const SmallConvShape shapes[] = {
      Shape(1, 28, 28, 20, 5, 1, 0, false),  // lenet5's conv1
      Shape(1, 28, 28, 20, 5, 1, 0, true),
      Shape(3, 15, 13, 32, 3, 2, 1, false),
      Shape(2, 9, 9, 16, 1, 1, 0, true),
  };
  uint64_t seed = 100;
  for (const SmallConvShape& s : shapes)
    for (BnAct act : kActs)
      for (int threads : {1, 2}) Check(s, act, threads, 2, seed++);
}

// Scratch sized for one thread is enough when the caller has more: the
// kernel then runs on one; and sized for two when it runs on one.
TEST(SmallConvTest, RunsWithinTheScratchItWasGiven) {
  for (bool pool : {false, true}) {
    const SmallConvShape s = Shape(1, 28, 28, 32, 3, 1, 1, pool);
    Check(s, BnAct::kRelu, 2, 1, 7);
    Check(s, BnAct::kRelu, 1, 2, 8);
  }
}

}  // namespace
}  // namespace edgenas
