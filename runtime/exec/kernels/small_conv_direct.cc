// SmallConvForward's path for any kernel size, stride and dilation.
#include "runtime/exec/kernels/small_conv_paths.h"
#include "runtime/exec/kernels/vec16.h"
#include "runtime/exec/kernels/vector_clones.h"

namespace edgenas {
namespace small_conv {
namespace {

// The sums of P output pixels (16 * NB channels each, padding past
// out_channels), activated, stored at y (the row's start) from column ow0.
template <BnAct A, int P, int kW>
inline __attribute__((always_inline)) void StorePixelsT(const SmallConvShape& s,
                                                        const float (&acc)[P][kW], int64_t ow0,
                                                        float* y) {
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

// P output pixels of row oh (written at y, the row's start), from column
// ow0 on, each with 16 * NB output channels in registers: P * NB
// independent chains of multiply-adds. `inside`: every tap of the P pixels
// lies within the image's columns.
template <int NB, int P, int CI>
inline __attribute__((always_inline)) void Pixels(const SmallConvShape& s, BnAct act,
                                                  const float* x, const float* w, const float* bias,
                                                  int64_t oh, int64_t ow0, bool inside, float* y) {
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
  switch (act) { EDGENAS_BN_ACT_CASES(StorePixelsT, s, acc, ow0, y) }
}

// Output rows [oh0, oh1), written from y on.
template <int NB, int CI>
inline __attribute__((always_inline)) void Rows(const SmallConvShape& s, BnAct act, const float* x,
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
    for (; ow < lo; ++ow) Pixels<NB, 1, CI>(s, act, x, w, bias, oh, ow, false, yr);
    for (; ow + P <= hi; ow += P) Pixels<NB, P, CI>(s, act, x, w, bias, oh, ow, true, yr);
    for (; ow < s.out_width; ++ow) Pixels<NB, 1, CI>(s, act, x, w, bias, oh, ow, false, yr);
  }
}

template <int CI>
inline __attribute__((always_inline)) void ForChannels(const SmallConvShape& s, BnAct act,
                                                       const float* x, const float* w,
                                                       const float* bias, float* y, int64_t oh0,
                                                       int64_t oh1) {
  switch (s.padded_out() / 16) {
    case 1:
      return Rows<1, CI>(s, act, x, w, bias, y, oh0, oh1);
    case 2:
      return Rows<2, CI>(s, act, x, w, bias, y, oh0, oh1);
    case 3:
      return Rows<3, CI>(s, act, x, w, bias, y, oh0, oh1);
    default:
      return Rows<4, CI>(s, act, x, w, bias, y, oh0, oh1);
  }
}

// One function per input-channel count, each built per vector width.
EDGENAS_VECTOR_CLONES
void DirectRows1(const SmallConvShape& s, BnAct act, const float* x, const float* w,
                 const float* bias, float* y, int64_t oh0, int64_t oh1) {
  ForChannels<1>(s, act, x, w, bias, y, oh0, oh1);
}

EDGENAS_VECTOR_CLONES
void DirectRows2(const SmallConvShape& s, BnAct act, const float* x, const float* w,
                 const float* bias, float* y, int64_t oh0, int64_t oh1) {
  ForChannels<2>(s, act, x, w, bias, y, oh0, oh1);
}

EDGENAS_VECTOR_CLONES
void DirectRows3(const SmallConvShape& s, BnAct act, const float* x, const float* w,
                 const float* bias, float* y, int64_t oh0, int64_t oh1) {
  ForChannels<3>(s, act, x, w, bias, y, oh0, oh1);
}

EDGENAS_VECTOR_CLONES
void DirectRows4(const SmallConvShape& s, BnAct act, const float* x, const float* w,
                 const float* bias, float* y, int64_t oh0, int64_t oh1) {
  ForChannels<4>(s, act, x, w, bias, y, oh0, oh1);
}

}  // namespace

void DirectRows(const SmallConvShape& s, BnAct act, const float* x, const float* w,
                const float* bias, float* y, int64_t oh0, int64_t oh1) {
  switch (s.in_channels) {
    case 1:
      return DirectRows1(s, act, x, w, bias, y, oh0, oh1);
    case 2:
      return DirectRows2(s, act, x, w, bias, y, oh0, oh1);
    case 3:
      return DirectRows3(s, act, x, w, bias, y, oh0, oh1);
    default:
      return DirectRows4(s, act, x, w, bias, y, oh0, oh1);
  }
}

}  // namespace small_conv
}  // namespace edgenas
