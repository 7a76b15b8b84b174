#include "runtime/exec/layers/small_conv.h"

#include <omp.h>

#include <algorithm>

#include "runtime/exec/layers/parallel.h"
#include "runtime/exec/layers/vector_clones.h"

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

}  // namespace

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
  if (!s.pool) {
    ParallelRun(omp_get_max_threads(), [&](int t, int n) {
      const int64_t oh0 = s.out_height * t / n, oh1 = s.out_height * (t + 1) / n;
      Run(s, act, x, w, bias, y + oh0 * s.out_width * s.out_channels, oh0, oh1);
    });
    return;
  }
  // Each pooled row from the two conv rows under it, which the thread's
  // scratch holds.
  const int64_t ph = s.out_height / 2, pw = s.out_width / 2, c = s.out_channels;
  const int64_t row = s.out_width * c;
  ParallelRun(std::min(omp_get_max_threads(), parts), [&](int t, int n) {
    float* two = scratch + t * 2 * row;
    for (int64_t py = ph * t / n; py < ph * (t + 1) / n; ++py) {
      Run(s, act, x, w, bias, two, 2 * py, 2 * py + 2);
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
