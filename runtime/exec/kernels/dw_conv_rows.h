// The parts of DepthwiseConvForward (dw_conv.h) that its paths share, and
// its 3x3 paths at stride 1 and 2, each built in a file of its own
// (dw_conv_stride1.cc, dw_conv_stride2.cc) so that they compile in
// parallel; the path for any other kernel is in dw_conv.cc.
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_DW_CONV_ROWS_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_DW_CONV_ROWS_H_

#include <cstdint>

#include "runtime/exec/kernels/act_kernel.h"
#include "runtime/exec/kernels/dw_conv.h"
#include "runtime/exec/kernels/vec16.h"

namespace edgenas {
namespace dw_conv {

constexpr int kBlock = 16;

// One block of 16 channels: x and y point at its first channel, pixels lie
// g.channels floats apart (channels-last).
template <BnAct A, int P>
inline __attribute__((always_inline)) void StoreT(const DepthwiseGeometry& g, const F16 (&acc)[P],
                                                  float* out) {
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) Store16(out + p * g.channels, ActV<A>(acc[p]));
}

// P pixels' sums activated and stored. The activation is a switch here, not
// a template parameter of the kernel: that would compile five copies of
// every loop nest to save a branch per group of pixels.
template <int P>
inline __attribute__((always_inline)) void Store(const DepthwiseGeometry& g, BnAct act,
                                                 const F16 (&acc)[P], float* out) {
  switch (act) { EDGENAS_BN_ACT_CASES(StoreT, g, acc, out) }
}

// P output pixels of row oh of one channel block, from column ow0 on, their
// sums in registers, for a 3x3 kernel at stride S (1 or 2), its 9 weight
// vectors given: each input row's (P - 1) * S + 3 vectors are loaded once, zero past
// the image's edges (kEdge: some may lie past them), and feed all three
// taps of the row.
template <int P, int S, bool kEdge>
inline __attribute__((always_inline)) void Pixels3x3(const DepthwiseGeometry& g, BnAct act,
                                                     const float* x, const F16* wv, const F16& b,
                                                     int64_t oh, int64_t ow0, float* y) {
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
  Store(g, act, acc, y + (oh * g.out_w + ow0) * g.channels);
}

// P pixels from ow0 on through Pixels3x3, its edge checks only where the
// input they read reaches past the image's columns.
template <int P, int S>
inline __attribute__((always_inline)) void Group3x3(const DepthwiseGeometry& g, BnAct act,
                                                    const float* x, const F16* wv, const F16& b,
                                                    int64_t oh, int64_t ow0, float* y) {
  const int64_t iw0 = ow0 * S - g.pad_w;
  if (iw0 >= 0 && iw0 + (P - 1) * S + 3 <= g.in_w)
    return Pixels3x3<P, S, false>(g, act, x, wv, b, oh, ow0, y);
  Pixels3x3<P, S, true>(g, act, x, wv, b, oh, ow0, y);
}

// Output row oh of one channel block of a 3x3 conv at stride S, in groups
// of as many pixels as the registers hold: 8 at stride 1, 6 at stride 2
// (input, sums and weights), then one group of the pixels left.
template <int S>
inline __attribute__((always_inline)) void Row3x3(const DepthwiseGeometry& g, BnAct act,
                                                  const float* x, const float* w, const F16& b,
                                                  int64_t oh, float* y) {
  constexpr int kGroup = S == 1 ? 8 : 6;
  F16 wv[9];
#pragma GCC unroll 9
  for (int k = 0; k < 9; ++k) wv[k] = Load16(w + k * kBlock);
  int64_t ow = 0;
  for (; ow + kGroup <= g.out_w; ow += kGroup) Group3x3<kGroup, S>(g, act, x, wv, b, oh, ow, y);
  // Fewer than kGroup pixels are left: the wider groups are not compiled.
  switch (g.out_w - ow) {
    case 7:
      if constexpr (kGroup > 7) Group3x3<7, S>(g, act, x, wv, b, oh, ow, y);
      return;
    case 6:
      if constexpr (kGroup > 6) Group3x3<6, S>(g, act, x, wv, b, oh, ow, y);
      return;
    case 5:
      return Group3x3<5, S>(g, act, x, wv, b, oh, ow, y);
    case 4:
      return Group3x3<4, S>(g, act, x, wv, b, oh, ow, y);
    case 3:
      return Group3x3<3, S>(g, act, x, wv, b, oh, ow, y);
    case 2:
      return Group3x3<2, S>(g, act, x, wv, b, oh, ow, y);
    case 1:
      return Group3x3<1, S>(g, act, x, wv, b, oh, ow, y);
    default:
      return;
  }
}

// Rows [r0, r1) of the output, counted over all channel blocks: row r is
// row r / blocks of block r % blocks, so that consecutive rows read
// neighbouring channels (by block, 16 channels 4*C bytes apart would fall
// into a few cache sets and evict each other at large C). row(x, w, b, oh,
// y) writes one row of one block, x, w and y at the block's first channel.
template <typename RowFn>
inline __attribute__((always_inline)) void ForRows(const DepthwiseGeometry& g, const float* x,
                                                   const float* w, const float* bias, int64_t r0,
                                                   int64_t r1, float* y, RowFn&& row) {
  const int64_t blocks = g.channels / kBlock;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t cb = r % blocks, oh = r / blocks;
    row(x + cb * kBlock, w + cb * g.kernel_h * g.kernel_w * kBlock, Load16(bias + cb * kBlock), oh,
        y + cb * kBlock);
  }
}

// Rows [r0, r1) (as ForRows counts them) of a 3x3 conv at stride 1 or 2.
void RowsStride1(const DepthwiseGeometry& g, BnAct act, const float* x, const float* w,
                 const float* bias, int64_t r0, int64_t r1, float* y);
void RowsStride2(const DepthwiseGeometry& g, BnAct act, const float* x, const float* w,
                 const float* bias, int64_t r0, int64_t r1, float* y);

}  // namespace dw_conv
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_DW_CONV_ROWS_H_
