#include "runtime/exec/kernels/dw_conv_grad.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/exec/kernels/vector_clones.h"

// The inner loops are written for the compiler to vectorize over the 16
// channels of a block (see vector_clones.h).

namespace edgenas {
namespace {

constexpr int64_t kBlock = 16;

// One output row `dy` (out_w x 16) against the padded source row `x`
// (width x 16, already shifted by kh): acc[kw][c] += sum_ow dy[ow][c] *
// x[ow*sw + kw*dw][c]. KW > 0 fixes the kernel width at compile time, so
// the accumulators stay in registers; KW == 0 reads it from `kw_n`.
template <int KW>
inline __attribute__((always_inline)) void RowTimesRow(const float* __restrict dy,
                                                       const float* __restrict x, int64_t out_w,
                                                       int64_t sw, int64_t dw, int64_t kw_n,
                                                       float* __restrict acc) {
  if constexpr (KW > 0) {
    float a[KW][kBlock];
    for (int k = 0; k < KW; ++k)
      for (int c = 0; c < kBlock; ++c) a[k][c] = acc[k * kBlock + c];
    for (int64_t ow = 0; ow < out_w; ++ow) {
      const float* d = dy + ow * kBlock;
      const float* xs = x + ow * sw * kBlock;
      for (int k = 0; k < KW; ++k) {
        const float* xk = xs + k * dw * kBlock;
#pragma omp simd
        for (int c = 0; c < kBlock; ++c) a[k][c] += d[c] * xk[c];
      }
    }
    for (int k = 0; k < KW; ++k)
      for (int c = 0; c < kBlock; ++c) acc[k * kBlock + c] = a[k][c];
  } else {
    for (int64_t k = 0; k < kw_n; ++k) {
      float a[kBlock];
      for (int c = 0; c < kBlock; ++c) a[c] = acc[k * kBlock + c];
      for (int64_t ow = 0; ow < out_w; ++ow) {
        const float* d = dy + ow * kBlock;
        const float* xk = x + (ow * sw + k * dw) * kBlock;
#pragma omp simd
        for (int c = 0; c < kBlock; ++c) a[c] += d[c] * xk[c];
      }
      for (int c = 0; c < kBlock; ++c) acc[k * kBlock + c] = a[c];
    }
  }
}

// One image of one channel block: the source, zero-padded left and right,
// is `xpad` (in_h rows of `wp` x 16); the output gradient `dy` (out_h x
// out_w x 16). Adds into acc [KH][KW][16] and bacc [16].
template <int KW>
inline __attribute__((always_inline)) void ImageTimesImage(const DepthwiseGeometry& g,
                                                           const float* xpad, int64_t wp,
                                                           const float* dy, float* acc,
                                                           float* bacc) {
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    const float* dr = dy + oh * g.out_w * kBlock;
    for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
      const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h;
      if (ih < 0 || ih >= g.in_h) continue;
      RowTimesRow<KW>(dr, xpad + ih * wp * kBlock, g.out_w, g.stride_w, g.dilation_w, g.kernel_w,
                      acc + kh * g.kernel_w * kBlock);
    }
    if (bacc != nullptr) {
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
#pragma omp simd
        for (int c = 0; c < kBlock; ++c) bacc[c] += dr[ow * kBlock + c];
      }
    }
  }
}

EDGENAS_VECTOR_CLONES
void AccumulateImage(const DepthwiseGeometry& g, const float* xpad, int64_t wp, const float* dy,
                     float* acc, float* bacc) {
  switch (g.kernel_w) {
    case 3:
      ImageTimesImage<3>(g, xpad, wp, dy, acc, bacc);
      break;
    case 5:
      ImageTimesImage<5>(g, xpad, wp, dy, acc, bacc);
      break;
    case 7:
      ImageTimesImage<7>(g, xpad, wp, dy, acc, bacc);
      break;
    default:
      ImageTimesImage<0>(g, xpad, wp, dy, acc, bacc);
      break;
  }
}

}  // namespace

void DepthwiseConvBackwardWeights(const DepthwiseGeometry& g, const float* src,
                                  const float* diff_dst, float* diff_weights, float* diff_bias) {
  const int64_t blocks = (g.channels + kBlock - 1) / kBlock;
  const int64_t taps = g.kernel_h * g.kernel_w;
  // Padded width: every column a tap reads, left padding included.
  const int64_t wp =
      std::max(g.pad_w + g.in_w, (g.out_w - 1) * g.stride_w + (g.kernel_w - 1) * g.dilation_w + 1);
  const int64_t per_block = taps * kBlock + kBlock;  // weights, then bias
  const int threads = std::max(1, omp_get_max_threads());
  std::vector<std::vector<float>> partial(threads);
  const int64_t items = g.batch * blocks;

#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    std::vector<float>& acc = partial[t];
    acc.assign(blocks * per_block, 0.0f);
    std::vector<float> xpad(g.in_h * wp * kBlock, 0.0f);
#pragma omp for schedule(static)
    for (int64_t item = 0; item < items; ++item) {
      const int64_t n = item / blocks, cb = item % blocks;
      const float* x = src + (n * blocks + cb) * g.in_h * g.in_w * kBlock;
      for (int64_t ih = 0; ih < g.in_h; ++ih)
        std::memcpy(&xpad[(ih * wp + g.pad_w) * kBlock], x + ih * g.in_w * kBlock,
                    sizeof(float) * g.in_w * kBlock);
      const float* dy = diff_dst + (n * blocks + cb) * g.out_h * g.out_w * kBlock;
      float* a = acc.data() + cb * per_block;
      AccumulateImage(g, xpad.data(), wp, dy, a,
                      diff_bias != nullptr ? a + taps * kBlock : nullptr);
    }
  }

  for (int64_t c = 0; c < g.channels; ++c) {
    const int64_t cb = c / kBlock, ci = c % kBlock;
    for (int64_t k = 0; k < taps; ++k) {
      float s = 0;
      for (const std::vector<float>& acc : partial) s += acc[cb * per_block + k * kBlock + ci];
      diff_weights[c * taps + k] = s;
    }
    if (diff_bias != nullptr) {
      float s = 0;
      for (const std::vector<float>& acc : partial) s += acc[cb * per_block + taps * kBlock + ci];
      diff_bias[c] = s;
    }
  }
}

}  // namespace edgenas
