// WinogradForward's F(2x2, 3x3): its input and output transforms, and the
// blocks of tiles through them (winograd_blocks.h).
#include "runtime/exec/kernels/vector_clones.h"
#include "runtime/exec/kernels/winograd_blocks.h"

namespace edgenas {
namespace winograd {
namespace {

// By value: std::max's references to temporaries keep GCC from vectorizing.
inline float Max(float a, float b) { return a > b ? a : b; }

// V = B^T d B of each of the block's tb tiles, every input channel: first
// down each of the 4 columns of the 4x4 input, then along each row.
inline __attribute__((always_inline)) void InputTransform(const WinogradShape& s, const float* x,
                                                          const Scratch& k, int tb, int64_t tile0,
                                                          int64_t tiles_w) {
  const int64_t cin = s.in_channels, xi = tb * cin;  // V's stride between products
  for (int t = 0; t < tb; ++t) {
    const int64_t ty = (tile0 + t) / tiles_w, tx = (tile0 + t) % tiles_w;
    const float* p[16];
    TileInputs<2>(s, x, k, ty, tx, p);
    float* v = k.v + t * cin;
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      // Row i of B^T d: rows of the input combined, each column j.
      const int a = i == 0 ? 0 : 1, b = i == 0 ? 2 : i == 3 ? 3 : 2;
      const float sa = i == 2 ? -1.0f : 1.0f, sb = i == 1 || i == 2 ? 1.0f : -1.0f;
      const float *p0 = p[4 * a], *p1 = p[4 * a + 1], *p2 = p[4 * a + 2], *p3 = p[4 * a + 3];
      const float *q0 = p[4 * b], *q1 = p[4 * b + 1], *q2 = p[4 * b + 2], *q3 = p[4 * b + 3];
      float *v0 = v + (4 * i) * xi, *v1 = v0 + xi, *v2 = v1 + xi, *v3 = v2 + xi;
#pragma omp simd
      for (int64_t c = 0; c < cin; ++c) {
        const float r0 = sa * p0[c] + sb * q0[c], r1 = sa * p1[c] + sb * q1[c],
                    r2 = sa * p2[c] + sb * q2[c], r3 = sa * p3[c] + sb * q3[c];
        v0[c] = r0 - r2;
        v1[c] = r1 + r2;
        v2[c] = r2 - r1;
        v3[c] = r1 - r3;
      }
    }
  }
}

// Y = A^T M A of each tile, plus bias, activated; the 2x2 block stored, or
// its maximum when the pool is fused.
template <BnAct A, bool kPool>
inline __attribute__((always_inline)) void OutputTransform(const WinogradShape& s,
                                                           const float* bias, const Scratch& k,
                                                           int tb, int64_t tile0, int64_t tiles_w,
                                                           float* y) {
  const int64_t cout = s.out_channels, cop = s.padded_out(), xi = tb * cop;
  const int64_t oh = s.out_height(), ow = s.out_width();
  for (int t = 0; t < tb; ++t) {
    const int64_t ty = (tile0 + t) / tiles_w, tx = (tile0 + t) % tiles_w;
    const float* m = k.m + t * cop;
    float *o0, *o1, *o2, *o3;
    if constexpr (kPool) {
      o0 = o1 = o2 = o3 = y + (ty * s.y_width() + tx) * cout;
    } else {
      auto at = [&](int64_t oy, int64_t ox) {
        return oy < oh && ox < ow ? y + (oy * ow + ox) * cout : k.sink;
      };
      o0 = at(2 * ty, 2 * tx), o1 = at(2 * ty, 2 * tx + 1);
      o2 = at(2 * ty + 1, 2 * tx), o3 = at(2 * ty + 1, 2 * tx + 1);
    }
#pragma omp simd
    for (int64_t c = 0; c < cout; ++c) {
      // A^T M: rows 0+1+2 and 1-2-3 of M, each of its 4 columns.
      const float* mc = m + c;
      const float a0 = mc[0] + mc[4 * xi] + mc[8 * xi], b0 = mc[4 * xi] - mc[8 * xi] - mc[12 * xi];
      const float a1 = mc[xi] + mc[5 * xi] + mc[9 * xi], b1 = mc[5 * xi] - mc[9 * xi] - mc[13 * xi];
      const float a2 = mc[2 * xi] + mc[6 * xi] + mc[10 * xi],
                  b2 = mc[6 * xi] - mc[10 * xi] - mc[14 * xi];
      const float a3 = mc[3 * xi] + mc[7 * xi] + mc[11 * xi],
                  b3 = mc[7 * xi] - mc[11 * xi] - mc[15 * xi];
      const float bc = bias[c];
      const float y00 = Act<A>(a0 + a1 + a2 + bc), y01 = Act<A>(a1 - a2 - a3 + bc);
      const float y10 = Act<A>(b0 + b1 + b2 + bc), y11 = Act<A>(b1 - b2 - b3 + bc);
      if constexpr (kPool) {
        o0[c] = Max(Max(y00, y01), Max(y10, y11));
      } else {
        o0[c] = y00;
        o1[c] = y01;
        o2[c] = y10;
        o3[c] = y11;
      }
    }
  }
}

template <BnAct A>
inline __attribute__((always_inline)) void Output2(const WinogradShape& s, const float* bias,
                                                   const Scratch& k, int tb, int64_t tile0,
                                                   int64_t tiles_w, float* y) {
  if (s.pool) return OutputTransform<A, true>(s, bias, k, tb, tile0, tiles_w, y);
  OutputTransform<A, false>(s, bias, k, tb, tile0, tiles_w, y);
}

template <int kMaxNb>
inline __attribute__((always_inline)) void ShareT(const WinogradShape& s, BnAct act, const float* x,
                                                  const float* u, const float* bias, float* scratch,
                                                  int64_t t0, int64_t t1, int64_t tiles_w,
                                                  float* y) {
  Blocks<2, kMaxNb>(
      s, u, scratch, t0, t1,
      [&](const Scratch& k, int tb, int64_t b0)
          __attribute__((always_inline)) { InputTransform(s, x, k, tb, b0, tiles_w); },
      [&](const Scratch& k, int tb, int64_t b0) __attribute__((always_inline)) {
        switch (act) { EDGENAS_BN_ACT_CASES(Output2, s, bias, k, tb, b0, tiles_w, y) }
      });
}

#if EDGENAS_HAS_WIDE_VECTORS
EDGENAS_WIDE_VECTORS
void ShareWide(const WinogradShape& s, BnAct act, const float* x, const float* u, const float* bias,
               float* scratch, int64_t t0, int64_t t1, int64_t tiles_w, float* y) {
  ShareT<kWideVectorBlocks>(s, act, x, u, bias, scratch, t0, t1, tiles_w, y);
}
#endif

EDGENAS_NARROW_CLONES
void ShareNarrow(const WinogradShape& s, BnAct act, const float* x, const float* u,
                 const float* bias, float* scratch, int64_t t0, int64_t t1, int64_t tiles_w,
                 float* y) {
  ShareT<1>(s, act, x, u, bias, scratch, t0, t1, tiles_w, y);
}

}  // namespace

void ShareF2x2(const WinogradShape& s, BnAct act, const float* x, const float* u, const float* bias,
               float* scratch, bool wide, int64_t t0, int64_t t1, int64_t tiles_w, float* y) {
#if EDGENAS_HAS_WIDE_VECTORS
  if (wide) return ShareWide(s, act, x, u, bias, scratch, t0, t1, tiles_w, y);
#endif
  (void)wide;
  ShareNarrow(s, act, x, u, bias, scratch, t0, t1, tiles_w, y);
}

}  // namespace winograd
}  // namespace edgenas
