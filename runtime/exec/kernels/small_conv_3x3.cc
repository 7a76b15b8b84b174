// SmallConvForward's 3x3 stride-1 paths, with and without the pool.
#include <algorithm>

#include "runtime/exec/kernels/small_conv_paths.h"
#include "runtime/exec/kernels/vec16.h"
#include "runtime/exec/kernels/vector_clones.h"

namespace edgenas {
namespace small_conv {
namespace {

// The sums of P pixels, 16 * NB channels each (padding past out_channels),
// activated, stored at y (the row's start) from column ow0.
template <BnAct A, int P, int NB>
inline __attribute__((always_inline)) void StoreVectorsT(const SmallConvShape& s,
                                                         const F16 (&acc)[P][NB], int64_t ow0,
                                                         float* y) {
  const bool whole = s.out_channels == 16 * NB;
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
    float* out = y + (ow0 + p) * s.out_channels;
#pragma GCC unroll 4
    for (int b = 0; b < NB; ++b) {
      const F16 v = ActV<A>(acc[p][b]);
      if (whole || b + 1 < NB) {
        Store16(out + 16 * b, v);
      } else {
        for (int64_t c = 16 * b; c < s.out_channels; ++c) out[c] = v[c - 16 * b];
      }
    }
  }
}

// P output pixels of row oh from column ow0 on, 16 * NB channels each, their
// sums in registers. Each input value is broadcast once per input row and
// feeds the (up to) three taps of that row it meets; the row's 3 * NB weight
// vectors stay in registers.
template <int NB, int P>
inline __attribute__((always_inline)) void Pixels3x3(const SmallConvShape& s, BnAct act,
                                                     const PaddedRows& in, const float* w,
                                                     const float* bias, int64_t oh, int64_t ow0,
                                                     float* y) {
  constexpr int kW = 16 * NB;
  F16 acc[P][NB];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int b = 0; b < NB; ++b) acc[p][b] = Load16(bias + 16 * b);
  const int64_t ci_n = s.in_channels;
  const float* xr0 = in.x + (oh - in.row0) * in.width + ow0;
#pragma GCC unroll 1
  for (int64_t ci = 0; ci < ci_n; ++ci) {
#pragma GCC unroll 3
    for (int ky = 0; ky < 3; ++ky) {
      const float* xr = xr0 + (ci * in.rows + ky) * in.width;
      F16 wv[3][NB];
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx)
#pragma GCC unroll 4
        for (int b = 0; b < NB; ++b)
          wv[kx][b] = Load16(w + ((ky * 3 + kx) * ci_n + ci) * kW + 16 * b);
#pragma GCC unroll 18
      for (int j = 0; j < P + 2; ++j) {
        const F16 xb = Splat16(xr[j]);
#pragma GCC unroll 3
        for (int kx = 0; kx < 3; ++kx) {
          if (j - kx < 0 || j - kx >= P) continue;
#pragma GCC unroll 4
          for (int b = 0; b < NB; ++b) acc[j - kx][b] += xb * wv[kx][b];
        }
      }
    }
  }
  switch (act) { EDGENAS_BN_ACT_CASES(StoreVectorsT, s, acc, ow0, y) }
}

// Output rows [oh0, oh1), written from y on, in groups of P pixels; a row's
// last group overlaps the one before it (writing the same values twice)
// rather than running a narrower kernel.
template <int NB>
inline __attribute__((always_inline)) void Rows3x3T(const SmallConvShape& s, BnAct act,
                                                    const PaddedRows& in, const float* w,
                                                    const float* bias, float* y, int64_t oh0,
                                                    int64_t oh1) {
  // The sums, one row's weights and a broadcast within 32 vector registers.
  constexpr int P = NB == 1 ? 14 : NB == 2 ? 7 : NB == 3 ? 6 : 4;
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    float* yr = y + (oh - oh0) * s.out_width * s.out_channels;
    if (s.out_width < P) {
      for (int64_t ow = 0; ow < s.out_width; ++ow)
        Pixels3x3<NB, 1>(s, act, in, w, bias, oh, ow, yr);
      continue;
    }
    for (int64_t ow = 0;; ow += P) {
      const int64_t at = std::min(ow, s.out_width - P);
      Pixels3x3<NB, P>(s, act, in, w, bias, oh, at, yr);
      if (at + P == s.out_width) break;
    }
  }
}

// The sums of conv rows oh and oh + 1 (top, bottom), P columns from ow0 on,
// activated, then pooled into P / 2 outputs stored at y (the pooled row's
// start).
template <BnAct A, int P, int NB>
inline __attribute__((always_inline)) void StorePooledT(const SmallConvShape& s,
                                                        const F16 (&top)[P][NB],
                                                        const F16 (&bottom)[P][NB], int64_t ow0,
                                                        float* y) {
  const bool whole = s.out_channels == 16 * NB;
  float* out = y + (ow0 / 2) * s.out_channels;
#pragma GCC unroll 8
  for (int p = 0; p < P; p += 2) {
#pragma GCC unroll 4
    for (int b = 0; b < NB; ++b) {
      const F16 t0 = ActV<A>(top[p][b]), t1 = ActV<A>(top[p + 1][b]);
      const F16 b0 = ActV<A>(bottom[p][b]), b1 = ActV<A>(bottom[p + 1][b]);
      const F16 t = t0 > t1 ? t0 : t1, u = b0 > b1 ? b0 : b1;
      const F16 v = t > u ? t : u;
      float* o = out + (p / 2) * s.out_channels + 16 * b;
      if (whole || b + 1 < NB) {
        Store16(o, v);
      } else {
        for (int64_t c = 16 * b; c < s.out_channels; ++c) o[c - 16 * b] = v[c - 16 * b];
      }
    }
  }
}

// With the 2x2 stride-2 max pool: conv rows oh and oh + 1, P columns from
// ow0 on (ow0 and P even), both rows' sums in registers (two sets of the
// input row's weights too: it feeds row oh through one and row oh + 1
// through the other), activated, then pooled into P / 2 outputs of pooled
// row oh / 2.
template <int NB, int P>
inline __attribute__((always_inline)) void PooledPixels3x3(const SmallConvShape& s, BnAct act,
                                                           const PaddedRows& in, const float* w,
                                                           const float* bias, int64_t oh,
                                                           int64_t ow0, float* y) {
  constexpr int kW = 16 * NB;
  F16 top[P][NB], bottom[P][NB];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int b = 0; b < NB; ++b) top[p][b] = bottom[p][b] = Load16(bias + 16 * b);
  const int64_t ci_n = s.in_channels;
  const float* xr0 = in.x + (oh - in.row0) * in.width + ow0;
#pragma GCC unroll 1
  for (int64_t ci = 0; ci < ci_n; ++ci) {
    // Input rows oh - 1 .. oh + 2 (padded rows k = 0..3 from oh): row k is
    // tap row k of conv row oh and tap row k - 1 of conv row oh + 1.
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const float* xr = xr0 + (ci * in.rows + k) * in.width;
      F16 wt[3][NB], wb[3][NB];
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx)
#pragma GCC unroll 4
        for (int b = 0; b < NB; ++b) {
          if (k < 3) wt[kx][b] = Load16(w + ((k * 3 + kx) * ci_n + ci) * kW + 16 * b);
          if (k > 0) wb[kx][b] = Load16(w + (((k - 1) * 3 + kx) * ci_n + ci) * kW + 16 * b);
        }
#pragma GCC unroll 18
      for (int j = 0; j < P + 2; ++j) {
        const F16 xb = Splat16(xr[j]);
#pragma GCC unroll 3
        for (int kx = 0; kx < 3; ++kx) {
          if (j - kx < 0 || j - kx >= P) continue;
#pragma GCC unroll 4
          for (int b = 0; b < NB; ++b) {
            if (k < 3) top[j - kx][b] += xb * wt[kx][b];
            if (k > 0) bottom[j - kx][b] += xb * wb[kx][b];
          }
        }
      }
    }
  }
  switch (act) { EDGENAS_BN_ACT_CASES(StorePooledT, s, top, bottom, ow0, y) }
}

// Pooled rows [py0, py1) from conv rows 2 py0 .. 2 py1, written from y on,
// in groups of P conv columns; a row's last group overlaps the one before
// it (the same maxima written twice). For 16 or 32 channels (NB 1 or 2),
// and at least P conv columns under the pooled ones.
template <int NB>
inline __attribute__((always_inline)) void PooledRows3x3T(const SmallConvShape& s, BnAct act,
                                                          const PaddedRows& in, const float* w,
                                                          const float* bias, float* y, int64_t py0,
                                                          int64_t py1) {
  // Two rows' sums, two sets of weights and a broadcast: 16 + 12 + 1
  // registers for NB = 2, 16 + 6 + 1 for NB = 1.
  constexpr int P = NB == 1 ? 8 : 4;
  const int64_t pw = s.out_width / 2, cols = 2 * pw;
  for (int64_t py = py0; py < py1; ++py) {
    float* yr = y + (py - py0) * pw * s.out_channels;
    for (int64_t ow = 0;; ow += P) {
      const int64_t at = std::min(ow, cols - P);
      PooledPixels3x3<NB, P>(s, act, in, w, bias, 2 * py, at, yr);
      if (at + P == cols) break;
    }
  }
}

// One function per register block (16 * NB channels), each built per
// vector width.
EDGENAS_VECTOR_CLONES
void Rows3x3Of16(const SmallConvShape& s, BnAct act, const PaddedRows& in, const float* w,
                 const float* bias, float* y, int64_t oh0, int64_t oh1) {
  Rows3x3T<1>(s, act, in, w, bias, y, oh0, oh1);
}

EDGENAS_VECTOR_CLONES
void Rows3x3Of32(const SmallConvShape& s, BnAct act, const PaddedRows& in, const float* w,
                 const float* bias, float* y, int64_t oh0, int64_t oh1) {
  Rows3x3T<2>(s, act, in, w, bias, y, oh0, oh1);
}

EDGENAS_VECTOR_CLONES
void Rows3x3Of48(const SmallConvShape& s, BnAct act, const PaddedRows& in, const float* w,
                 const float* bias, float* y, int64_t oh0, int64_t oh1) {
  Rows3x3T<3>(s, act, in, w, bias, y, oh0, oh1);
}

EDGENAS_VECTOR_CLONES
void Rows3x3Of64(const SmallConvShape& s, BnAct act, const PaddedRows& in, const float* w,
                 const float* bias, float* y, int64_t oh0, int64_t oh1) {
  Rows3x3T<4>(s, act, in, w, bias, y, oh0, oh1);
}

EDGENAS_VECTOR_CLONES
void PooledRows3x3Of16(const SmallConvShape& s, BnAct act, const PaddedRows& in, const float* w,
                       const float* bias, float* y, int64_t py0, int64_t py1) {
  PooledRows3x3T<1>(s, act, in, w, bias, y, py0, py1);
}

EDGENAS_VECTOR_CLONES
void PooledRows3x3Of32(const SmallConvShape& s, BnAct act, const PaddedRows& in, const float* w,
                       const float* bias, float* y, int64_t py0, int64_t py1) {
  PooledRows3x3T<2>(s, act, in, w, bias, y, py0, py1);
}

}  // namespace

void Rows3x3(const SmallConvShape& s, BnAct act, const PaddedRows& in, const float* w,
             const float* bias, float* y, int64_t oh0, int64_t oh1) {
  switch (s.padded_out() / 16) {
    case 1:
      return Rows3x3Of16(s, act, in, w, bias, y, oh0, oh1);
    case 2:
      return Rows3x3Of32(s, act, in, w, bias, y, oh0, oh1);
    case 3:
      return Rows3x3Of48(s, act, in, w, bias, y, oh0, oh1);
    default:
      return Rows3x3Of64(s, act, in, w, bias, y, oh0, oh1);
  }
}

void PooledRows3x3(const SmallConvShape& s, BnAct act, const PaddedRows& in, const float* w,
                   const float* bias, float* y, int64_t py0, int64_t py1) {
  if (s.padded_out() == 16) return PooledRows3x3Of16(s, act, in, w, bias, y, py0, py1);
  PooledRows3x3Of32(s, act, in, w, bias, y, py0, py1);
}

}  // namespace small_conv
}  // namespace edgenas
