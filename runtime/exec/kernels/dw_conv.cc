#include "runtime/exec/kernels/dw_conv.h"

#include <omp.h>

#include "runtime/exec/kernels/parallel.h"
#include "runtime/exec/kernels/vec16.h"
#include "runtime/exec/kernels/vector_clones.h"

namespace edgenas {
namespace {

constexpr int kBlock = 16;

// One block of 16 channels: x and y point at its first channel, pixels lie
// g.channels floats apart (channels-last).
template <BnAct A, int P>
inline __attribute__((always_inline)) void Store(const DepthwiseGeometry& g, const F16* acc,
                                                 float* out) {
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) Store16(out + p * g.channels, ActV<A>(acc[p]));
}

// P output pixels of row oh of one channel block, from column ow0 on, their
// sums in registers; any kernel and stride.
template <BnAct A, int P>
inline __attribute__((always_inline)) void Pixels(const DepthwiseGeometry& g, const float* x,
                                                  const float* w, const F16& b, int64_t oh,
                                                  int64_t ow0, float* y) {
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
  Store<A, P>(g, acc, y + (oh * g.out_w + ow0) * g.channels);
}

// The same for a 3x3 kernel at stride S (1 or 2), its 9 weight vectors
// given: each input row's (P - 1) * S + 3 vectors are loaded once, zero past
// the image's edges (kEdge: some may lie past them), and feed all three
// taps of the row.
template <BnAct A, int P, int S, bool kEdge>
inline __attribute__((always_inline)) void Pixels3x3(const DepthwiseGeometry& g, const float* x,
                                                     const F16* wv, const F16& b, int64_t oh,
                                                     int64_t ow0, float* y) {
  constexpr int kIn = (P - 1) * S + 3;
  F16 acc[P];
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) acc[p] = b;
  const int64_t iw0 = ow0 * S - g.pad_w;
#pragma GCC unroll 3
  for (int ky = 0; ky < 3; ++ky) {
    const int64_t ih = oh * S - g.pad_h + ky;
    if (ih < 0 || ih >= g.in_h) continue;
    const float* xr = x + (ih * g.in_w + iw0) * g.channels;
    F16 in[kIn];
#pragma GCC unroll 24
    for (int j = 0; j < kIn; ++j)
      in[j] = !kEdge || (iw0 + j >= 0 && iw0 + j < g.in_w) ? Load16(xr + j * g.channels) : F16{};
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; ++kx)
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) acc[p] += in[p * S + kx] * wv[ky * 3 + kx];
  }
  Store<A, P>(g, acc, y + (oh * g.out_w + ow0) * g.channels);
}

// P pixels from ow0 on through Pixels3x3, its edge checks only where the
// input they read reaches past the image's columns.
template <BnAct A, int P, int S>
inline __attribute__((always_inline)) void Group3x3(const DepthwiseGeometry& g, const float* x,
                                                    const F16* wv, const F16& b, int64_t oh,
                                                    int64_t ow0, float* y) {
  const int64_t iw0 = ow0 * S - g.pad_w;
  if (iw0 >= 0 && iw0 + (P - 1) * S + 3 <= g.in_w)
    return Pixels3x3<A, P, S, false>(g, x, wv, b, oh, ow0, y);
  Pixels3x3<A, P, S, true>(g, x, wv, b, oh, ow0, y);
}

// Output row oh of one channel block, in groups of as many pixels as the
// registers hold: 8 at stride 1, 6 at stride 2 (input, sums and weights).
template <BnAct A, int S>
inline __attribute__((always_inline)) void Row(const DepthwiseGeometry& g, const float* x,
                                               const float* w, const F16& b, int64_t oh, float* y) {
  int64_t ow = 0;
  if constexpr (S > 0) {
    constexpr int kGroup = S == 1 ? 8 : 6;
    F16 wv[9];
#pragma GCC unroll 9
    for (int k = 0; k < 9; ++k) wv[k] = Load16(w + k * kBlock);
    for (; ow + kGroup <= g.out_w; ow += kGroup) Group3x3<A, kGroup, S>(g, x, wv, b, oh, ow, y);
    switch (g.out_w - ow) {
      case 7:
        return Group3x3<A, 7, S>(g, x, wv, b, oh, ow, y);
      case 6:
        return Group3x3<A, 6, S>(g, x, wv, b, oh, ow, y);
      case 5:
        return Group3x3<A, 5, S>(g, x, wv, b, oh, ow, y);
      case 4:
        return Group3x3<A, 4, S>(g, x, wv, b, oh, ow, y);
      case 3:
        return Group3x3<A, 3, S>(g, x, wv, b, oh, ow, y);
      case 2:
        return Group3x3<A, 2, S>(g, x, wv, b, oh, ow, y);
      case 1:
        return Group3x3<A, 1, S>(g, x, wv, b, oh, ow, y);
      default:
        return;
    }
  } else {
    for (; ow + 8 <= g.out_w; ow += 8) Pixels<A, 8>(g, x, w, b, oh, ow, y);
    for (; ow < g.out_w; ++ow) Pixels<A, 1>(g, x, w, b, oh, ow, y);
  }
}

// Rows [r0, r1) of the output, counted over all channel blocks: row r is
// row r / blocks of block r % blocks, so that consecutive rows read
// neighbouring channels (by block, 16 channels 4*C bytes apart would fall
// into a few cache sets and evict each other at large C).
template <BnAct A>
inline __attribute__((always_inline)) void RowsT(const DepthwiseGeometry& g, const float* x,
                                                 const float* w, const float* bias, int64_t r0,
                                                 int64_t r1, float* y) {
  const int s = g.kernel_h == 3 && g.kernel_w == 3 && g.stride_h == g.stride_w &&
                        (g.stride_h == 1 || g.stride_h == 2)
                    ? static_cast<int>(g.stride_h)
                    : 0;
  const int64_t blocks = g.channels / kBlock;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t cb = r % blocks, oh = r / blocks;
    const float* xb = x + cb * kBlock;
    const float* wb = w + cb * g.kernel_h * g.kernel_w * kBlock;
    float* yb = y + cb * kBlock;
    const F16 b = Load16(bias + cb * kBlock);
    switch (s) {
      case 1:
        Row<A, 1>(g, xb, wb, b, oh, yb);
        break;
      case 2:
        Row<A, 2>(g, xb, wb, b, oh, yb);
        break;
      default:
        Row<A, 0>(g, xb, wb, b, oh, yb);
        break;
    }
  }
}

EDGENAS_VECTOR_CLONES
void Rows(const DepthwiseGeometry& g, BnAct act, const float* x, const float* w, const float* bias,
          int64_t r0, int64_t r1, float* y) {
  switch (act) { EDGENAS_BN_ACT_CASES(RowsT, g, x, w, bias, r0, r1, y) }
}

}  // namespace

bool DepthwiseForwardApplies(const DepthwiseGeometry& g) {
  return g.batch == 1 && g.channels % kBlock == 0 && g.dilation_h == 1 && g.dilation_w == 1;
}

void DepthwiseConvForward(const DepthwiseGeometry& g, BnAct act, const float* x, const float* w,
                          const float* bias, float* y) {
  const int64_t rows = g.channels / kBlock * g.out_h;
  ParallelRun(omp_get_max_threads(),
              [&](int t, int n) { Rows(g, act, x, w, bias, rows * t / n, rows * (t + 1) / n, y); });
}

}  // namespace edgenas
