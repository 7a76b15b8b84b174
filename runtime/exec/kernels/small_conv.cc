#include "runtime/exec/kernels/small_conv.h"

#include <omp.h>

#include <algorithm>

#include "runtime/exec/kernels/parallel.h"
#include "runtime/exec/kernels/vec16.h"
#include "runtime/exec/kernels/vector_clones.h"

namespace edgenas {
namespace {

// P output pixels of row oh (written at y, the row's start), from column
// ow0 on, each with 16 * NB output channels in registers: P * NB
// independent chains of multiply-adds. `inside`: every tap of the P pixels
// lies within the image's columns.
template <BnAct A, int NB, int P, int CI>
inline __attribute__((always_inline)) void Pixels(const SmallConvShape& s, const float* x,
                                                  const float* w, const float* bias, int64_t oh,
                                                  int64_t ow0, bool inside, float* y) {
  constexpr int kW = 16 * NB;
  float acc[P][kW];
  for (int p = 0; p < P; ++p)
#pragma omp simd
    for (int c = 0; c < kW; ++c) acc[p][c] = bias[c];
  for (int ky = 0; ky < s.kernel_h; ++ky) {
    const int64_t ih = oh * s.stride_h - s.pad_h + ky * s.dilation_h;
    if (ih < 0 || ih >= s.height) continue;
    for (int kx = 0; kx < s.kernel_w; ++kx) {
      const int64_t iw0 = ow0 * s.stride_w - s.pad_w + kx * s.dilation_w;
#pragma GCC unroll 4
      for (int ci = 0; ci < CI; ++ci) {
        const float* xr = x + (ci * s.height + ih) * s.width;
        const float* wr = w + ((ky * s.kernel_w + kx) * CI + ci) * kW;
        for (int p = 0; p < P; ++p) {
          const int64_t iw = iw0 + p * s.stride_w;
          if (!inside && (iw < 0 || iw >= s.width)) continue;
          const float xv = xr[iw];
#pragma omp simd
          for (int c = 0; c < kW; ++c) acc[p][c] += xv * wr[c];
        }
      }
    }
  }
  for (int p = 0; p < P; ++p) {
    float* out = y + (ow0 + p) * s.out_channels;
    if (s.out_channels == kW) {
#pragma omp simd
      for (int c = 0; c < kW; ++c) out[c] = Act<A>(acc[p][c]);
    } else {
      for (int64_t c = 0; c < s.out_channels; ++c) out[c] = Act<A>(acc[p][c]);
    }
  }
}

// Output rows [oh0, oh1), written from y on.
template <BnAct A, int NB, int CI>
inline __attribute__((always_inline)) void Rows(const SmallConvShape& s, const float* x,
                                                const float* w, const float* bias, float* y,
                                                int64_t oh0, int64_t oh1) {
  constexpr int P = NB == 1 ? 12 : NB == 2 ? 6 : 3;  // 12 (or 9) chains
  // Columns whose taps all lie inside the image: [lo, hi).
  int64_t lo = 0, hi = s.out_width;
  while (lo < s.out_width && lo * s.stride_w - s.pad_w < 0) ++lo;
  while (hi > lo && (hi - 1) * s.stride_w - s.pad_w + (s.kernel_w - 1) * s.dilation_w >= s.width)
    --hi;
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    float* yr = y + (oh - oh0) * s.out_width * s.out_channels;
    int64_t ow = 0;
    for (; ow < lo; ++ow) Pixels<A, NB, 1, CI>(s, x, w, bias, oh, ow, false, yr);
    for (; ow + P <= hi; ow += P) Pixels<A, NB, P, CI>(s, x, w, bias, oh, ow, true, yr);
    for (; ow < s.out_width; ++ow) Pixels<A, NB, 1, CI>(s, x, w, bias, oh, ow, false, yr);
  }
}

template <BnAct A, int CI>
inline __attribute__((always_inline)) void ForChannels(const SmallConvShape& s, const float* x,
                                                       const float* w, const float* bias, float* y,
                                                       int64_t oh0, int64_t oh1) {
  switch (s.padded_out() / 16) {
    case 1:
      return Rows<A, 1, CI>(s, x, w, bias, y, oh0, oh1);
    case 2:
      return Rows<A, 2, CI>(s, x, w, bias, y, oh0, oh1);
    case 3:
      return Rows<A, 3, CI>(s, x, w, bias, y, oh0, oh1);
    default:
      return Rows<A, 4, CI>(s, x, w, bias, y, oh0, oh1);
  }
}

template <BnAct A>
inline __attribute__((always_inline)) void ForAct(const SmallConvShape& s, const float* x,
                                                  const float* w, const float* bias, float* y,
                                                  int64_t oh0, int64_t oh1) {
  switch (s.in_channels) {
    case 1:
      return ForChannels<A, 1>(s, x, w, bias, y, oh0, oh1);
    case 2:
      return ForChannels<A, 2>(s, x, w, bias, y, oh0, oh1);
    case 3:
      return ForChannels<A, 3>(s, x, w, bias, y, oh0, oh1);
    default:
      return ForChannels<A, 4>(s, x, w, bias, y, oh0, oh1);
  }
}

EDGENAS_VECTOR_CLONES
void Run(const SmallConvShape& s, BnAct act, const float* x, const float* w, const float* bias,
         float* y, int64_t oh0, int64_t oh1) {
  switch (act) { EDGENAS_BN_ACT_CASES(ForAct, s, x, w, bias, y, oh0, oh1) }
}

// The 3x3 stride-1 path (no dilation) reads a copy of its input rows with
// the padding written out as zeros, so that its inner loops have no edge
// checks: `rows` rows of `width` floats per input channel, padded row k
// under output row row0 + k.
struct PaddedRows {
  const float* x;
  int64_t width, rows, row0;
};

bool Is3x3s1(const SmallConvShape& s) {
  return s.kernel_h == 3 && s.kernel_w == 3 && s.stride_h == 1 && s.stride_w == 1 &&
         s.dilation_h == 1 && s.dilation_w == 1;
}

// P output pixels of row oh from column ow0 on, 16 * NB channels each, their
// sums in registers. Each input value is broadcast once per input row and
// feeds the (up to) three taps of that row it meets; the row's 3 * NB weight
// vectors stay in registers.
template <BnAct A, int NB, int P>
inline __attribute__((always_inline)) void Pixels3x3(const SmallConvShape& s, const PaddedRows& in,
                                                     const float* w, const float* bias, int64_t oh,
                                                     int64_t ow0, float* y) {
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
  const bool whole = s.out_channels == kW;
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

// Output rows [oh0, oh1), written from y on, in groups of P pixels; a row's
// last group overlaps the one before it (writing the same values twice)
// rather than running a narrower kernel.
template <BnAct A, int NB>
inline __attribute__((always_inline)) void Rows3x3T(const SmallConvShape& s, const PaddedRows& in,
                                                    const float* w, const float* bias, float* y,
                                                    int64_t oh0, int64_t oh1) {
  // The sums, one row's weights and a broadcast within 32 vector registers.
  constexpr int P = NB == 1 ? 14 : NB == 2 ? 7 : NB == 3 ? 6 : 4;
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    float* yr = y + (oh - oh0) * s.out_width * s.out_channels;
    if (s.out_width < P) {
      for (int64_t ow = 0; ow < s.out_width; ++ow) Pixels3x3<A, NB, 1>(s, in, w, bias, oh, ow, yr);
      continue;
    }
    for (int64_t ow = 0;; ow += P) {
      const int64_t at = std::min(ow, s.out_width - P);
      Pixels3x3<A, NB, P>(s, in, w, bias, oh, at, yr);
      if (at + P == s.out_width) break;
    }
  }
}

template <BnAct A>
inline __attribute__((always_inline)) void Rows3x3A(const SmallConvShape& s, const PaddedRows& in,
                                                    const float* w, const float* bias, float* y,
                                                    int64_t oh0, int64_t oh1) {
  switch (s.padded_out() / 16) {
    case 1:
      return Rows3x3T<A, 1>(s, in, w, bias, y, oh0, oh1);
    case 2:
      return Rows3x3T<A, 2>(s, in, w, bias, y, oh0, oh1);
    case 3:
      return Rows3x3T<A, 3>(s, in, w, bias, y, oh0, oh1);
    default:
      return Rows3x3T<A, 4>(s, in, w, bias, y, oh0, oh1);
  }
}

// With the 2x2 stride-2 max pool: conv rows oh and oh + 1, P columns from
// ow0 on (ow0 and P even), both rows' sums in registers (two sets of the
// input row's weights too: it feeds row oh through one and row oh + 1
// through the other), activated, then pooled into P / 2 outputs of pooled
// row oh / 2.
template <BnAct A, int NB, int P>
inline __attribute__((always_inline)) void PooledPixels3x3(const SmallConvShape& s,
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
  const bool whole = s.out_channels == kW;
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

// Pooled rows [py0, py1) from conv rows 2 py0 .. 2 py1, written from y on,
// in groups of P conv columns; a row's last group overlaps the one before
// it (the same maxima written twice). For 16 or 32 channels (NB 1 or 2),
// and at least P conv columns under the pooled ones.
template <BnAct A, int NB>
inline __attribute__((always_inline)) void PooledRows3x3T(const SmallConvShape& s,
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
      PooledPixels3x3<A, NB, P>(s, in, w, bias, 2 * py, at, yr);
      if (at + P == cols) break;
    }
  }
}

template <BnAct A>
inline __attribute__((always_inline)) void PooledRows3x3A(const SmallConvShape& s,
                                                          const PaddedRows& in, const float* w,
                                                          const float* bias, float* y, int64_t py0,
                                                          int64_t py1) {
  if (s.padded_out() == 16) return PooledRows3x3T<A, 1>(s, in, w, bias, y, py0, py1);
  PooledRows3x3T<A, 2>(s, in, w, bias, y, py0, py1);
}

// Whether PooledRows3x3 takes this conv (3x3 stride 1, the pool fused).
bool PooledInRegisters(const SmallConvShape& s) {
  return s.pool && s.padded_out() <= 32 && s.out_width / 2 * 2 >= (s.padded_out() == 16 ? 8 : 4);
}

EDGENAS_VECTOR_CLONES
void PooledRows3x3(const SmallConvShape& s, BnAct act, const PaddedRows& in, const float* w,
                   const float* bias, float* y, int64_t py0, int64_t py1) {
  switch (act) { EDGENAS_BN_ACT_CASES(PooledRows3x3A, s, in, w, bias, y, py0, py1) }
}

EDGENAS_VECTOR_CLONES
void Rows3x3(const SmallConvShape& s, BnAct act, const PaddedRows& in, const float* w,
             const float* bias, float* y, int64_t oh0, int64_t oh1) {
  switch (act) { EDGENAS_BN_ACT_CASES(Rows3x3A, s, in, w, bias, y, oh0, oh1) }
}

// The input rows under output rows [oh0, oh1) of a 3x3 stride-1 conv, with
// their padding, at `to`.
// Plain loops, not turned into calls of memset and memcpy: the rows are a
// few dozen floats, and 3 library calls a row cost more than the copy.
__attribute__((optimize("no-tree-loop-distribute-patterns"))) PaddedRows PadRows(
    const SmallConvShape& s, const float* x, int64_t oh0, int64_t oh1, float* to) {
  const int64_t width = s.width + 2 * s.pad_w, rows = oh1 - oh0 + 2;
  for (int64_t ci = 0; ci < s.in_channels; ++ci)
    for (int64_t k = 0; k < rows; ++k) {
      float* row = to + (ci * rows + k) * width;
      const int64_t ih = oh0 - s.pad_h + k;
      if (ih < 0 || ih >= s.height) {
        for (int64_t j = 0; j < width; ++j) row[j] = 0.0f;
        continue;
      }
      const float* src = x + (ci * s.height + ih) * s.width;
      for (int64_t j = 0; j < s.pad_w; ++j) row[j] = 0.0f;
      for (int64_t j = 0; j < s.width; ++j) row[s.pad_w + j] = src[j];
      for (int64_t j = s.pad_w + s.width; j < width; ++j) row[j] = 0.0f;
    }
  return PaddedRows{to, width, rows, oh0};
}

}  // namespace

int64_t SmallConvShape::scratch_floats(int parts) const {
  parts = std::max(parts, 1);
  int64_t per_thread = pool ? 2 * out_width * out_channels : 0;
  // A thread may take every output row: it runs on fewer than `parts`.
  if (Is3x3s1(*this)) per_thread += in_channels * (out_height + 2) * (width + 2 * pad_w);
  return parts * per_thread;
}

bool SmallConvApplies(const SmallConvShape& s) {
  return s.in_channels <= 4 && s.out_channels <= 64 && s.kernel_h * s.kernel_w <= 49 &&
         (!s.pool || (s.out_height >= 2 && s.out_width >= 2));
}

bool SmallConv(const Graph& graph, const GraphInfo& info, int v, SmallConvShape* s) {
  const Node& n = graph.nodes[v];
  if (n.op != OpKind::kConv || n.conv.groups != 1) return false;
  const ConvAttrs& a = n.conv;
  const int src = info.nodes[v].inputs[0];
  const ValueShape& in = src == kGraphInput ? info.input_shape : info.nodes[src].shape;
  const ValueShape& out = info.nodes[v].shape;
  if (in.flat) return false;
  *s = SmallConvShape{in.channels, in.height,  in.width,     out.channels, out.height,
                      out.width,   a.kernel_h, a.kernel_w,   a.stride_h,   a.stride_w,
                      a.pad_h,     a.pad_w,    a.dilation_h, a.dilation_w};
  return SmallConvApplies(*s);
}

void SmallConvForward(const SmallConvShape& s, BnAct act, const float* x, const float* w,
                      const float* bias, float* scratch, int parts, float* y) {
  parts = std::max(parts, 1);
  const bool fast = Is3x3s1(s);
  const int64_t c = s.out_channels, row = s.out_width * c;
  const int64_t per_thread = s.scratch_floats(parts) / parts;
  const int64_t pool_scratch = s.pool ? 2 * row : 0;
  // Output rows [oh0, oh1) at out.
  auto conv = [&](const PaddedRows& in, float* out, int64_t oh0, int64_t oh1) {
    if (fast) {
      Rows3x3(s, act, in, w, bias, out, oh0, oh1);
    } else {
      Run(s, act, x, w, bias, out, oh0, oh1);
    }
  };
  ParallelRun(std::min(omp_get_max_threads(), parts), [&](int t, int n) {
    float* mine = scratch + t * per_thread;
    if (!s.pool) {
      const int64_t oh0 = s.out_height * t / n, oh1 = s.out_height * (t + 1) / n;
      if (oh0 == oh1) return;
      const PaddedRows in = fast ? PadRows(s, x, oh0, oh1, mine) : PaddedRows{};
      conv(in, y + oh0 * row, oh0, oh1);
      return;
    }
    // Each pooled row from the two conv rows under it, which the thread's
    // scratch holds.
    const int64_t ph = s.out_height / 2, pw = s.out_width / 2;
    const int64_t py0 = ph * t / n, py1 = ph * (t + 1) / n;
    if (py0 == py1) return;
    float* two = mine;
    const PaddedRows in =
        fast ? PadRows(s, x, 2 * py0, 2 * py1, mine + pool_scratch) : PaddedRows{};
    if (fast && PooledInRegisters(s)) {
      PooledRows3x3(s, act, in, w, bias, y + py0 * pw * c, py0, py1);
      return;
    }
    for (int64_t py = py0; py < py1; ++py) {
      conv(in, two, 2 * py, 2 * py + 2);
      float* out = y + py * pw * c;
      for (int64_t px = 0; px < pw; ++px) {
        const float *a = two + 2 * px * c, *b = a + row;
#pragma omp simd
        for (int64_t k = 0; k < c; ++k) {
          const float m = a[k] > a[c + k] ? a[k] : a[c + k];
          const float l = b[k] > b[c + k] ? b[k] : b[c + k];
          out[px * c + k] = m > l ? m : l;
        }
      }
    }
  });
}

}  // namespace edgenas
