#include "runtime/exec/kernels/dw_conv.h"

#include <omp.h>

#include "runtime/exec/kernels/dw_conv_rows.h"
#include "runtime/exec/kernels/parallel.h"
#include "runtime/exec/kernels/vec16.h"
#include "runtime/exec/kernels/vector_clones.h"

namespace edgenas {
namespace dw_conv {
namespace {

// P output pixels of row oh of one channel block, from column ow0 on, their
// sums in registers; any kernel and stride.
template <int P>
inline __attribute__((always_inline)) void Pixels(const DepthwiseGeometry& g, BnAct act,
                                                  const float* x, const float* w, const F16& b,
                                                  int64_t oh, int64_t ow0, float* y) {
  F16 acc[P];
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) acc[p] = b;
  for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
    const int64_t ih = oh * g.stride_h - g.pad_h + ky;
    if (ih < 0 || ih >= g.in_h) continue;
    const float* xr = x + ih * g.in_w * g.channels;
    for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
      const F16 wk = Load16(w + (ky * g.kernel_w + kx) * kBlock);
      const int64_t iw0 = ow0 * g.stride_w - g.pad_w + kx;
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
        const int64_t iw = iw0 + p * g.stride_w;
        if (iw >= 0 && iw < g.in_w) acc[p] += Load16(xr + iw * g.channels) * wk;
      }
    }
  }
  Store(g, act, acc, y + (oh * g.out_w + ow0) * g.channels);
}

// Rows [r0, r1) (as ForRows counts them) of any kernel and stride: in
// groups of 8 pixels, then one at a time.
EDGENAS_VECTOR_CLONES
void RowsAny(const DepthwiseGeometry& g, BnAct act, const float* x, const float* w,
             const float* bias, int64_t r0, int64_t r1, float* y) {
  ForRows(
      g, x, w, bias, r0, r1, y,
      [&](const float* xb, const float* wb, const F16& b, int64_t oh, float* yb)
          __attribute__((always_inline)) {
            int64_t ow = 0;
            for (; ow + 8 <= g.out_w; ow += 8) Pixels<8>(g, act, xb, wb, b, oh, ow, yb);
            for (; ow < g.out_w; ++ow) Pixels<1>(g, act, xb, wb, b, oh, ow, yb);
          });
}

void Rows(const DepthwiseGeometry& g, BnAct act, const float* x, const float* w, const float* bias,
          int64_t r0, int64_t r1, float* y) {
  const bool square3 = g.kernel_h == 3 && g.kernel_w == 3 && g.stride_h == g.stride_w;
  if (square3 && g.stride_h == 1) return RowsStride1(g, act, x, w, bias, r0, r1, y);
  if (square3 && g.stride_h == 2) return RowsStride2(g, act, x, w, bias, r0, r1, y);
  RowsAny(g, act, x, w, bias, r0, r1, y);
}

}  // namespace
}  // namespace dw_conv

bool DepthwiseForwardApplies(const DepthwiseGeometry& g) {
  return g.batch == 1 && g.channels % dw_conv::kBlock == 0 && g.dilation_h == 1 &&
         g.dilation_w == 1;
}

void DepthwiseConvForward(const DepthwiseGeometry& g, BnAct act, const float* x, const float* w,
                          const float* bias, float* y) {
  const int64_t rows = g.channels / dw_conv::kBlock * g.out_h;
  ParallelRun(omp_get_max_threads(), [&](int t, int n) {
    dw_conv::Rows(g, act, x, w, bias, rows * t / n, rows * (t + 1) / n, y);
  });
}

}  // namespace edgenas
