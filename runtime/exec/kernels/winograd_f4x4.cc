// WinogradForward's F(4x4, 3x3): its input and output transforms, and the
// blocks of tiles through them (winograd_blocks.h).
#include <type_traits>

#include "runtime/exec/kernels/vector_clones.h"
#include "runtime/exec/kernels/winograd_blocks.h"
#include "runtime/exec/kernels/winograd_f4.h"

namespace edgenas {
namespace winograd {
namespace {

// Row I of V = B^T d B, every input channel: row I of B^T d (a combination
// of d's rows, each of its 6 columns), then that row times B. p: the 36
// input pixels, row-major.
template <int I>
inline __attribute__((always_inline)) void InputRow4(const float* const* p, float* v, int64_t xi,
                                                     int64_t cin) {
  auto column = [&](const float* const* q, int64_t c) __attribute__((always_inline)) {
    return Bt4<I>(q[0][c], q[6][c], q[12][c], q[18][c], q[24][c], q[30][c]);
  };
  float *v0 = v + 6 * I * xi, *v1 = v0 + xi, *v2 = v1 + xi, *v3 = v2 + xi, *v4 = v3 + xi,
        *v5 = v4 + xi;
#pragma omp simd
  for (int64_t c = 0; c < cin; ++c) {
    const float t0 = column(p, c), t1 = column(p + 1, c), t2 = column(p + 2, c),
                t3 = column(p + 3, c), t4 = column(p + 4, c), t5 = column(p + 5, c);
    v0[c] = Bt4<0>(t0, t1, t2, t3, t4, t5);
    v1[c] = Bt4<1>(t0, t1, t2, t3, t4, t5);
    v2[c] = Bt4<2>(t0, t1, t2, t3, t4, t5);
    v3[c] = Bt4<3>(t0, t1, t2, t3, t4, t5);
    v4[c] = Bt4<4>(t0, t1, t2, t3, t4, t5);
    v5[c] = Bt4<5>(t0, t1, t2, t3, t4, t5);
  }
}

inline __attribute__((always_inline)) void InputTransform4(const WinogradShape& s, const float* x,
                                                           const Scratch& k, int tb, int64_t tile0,
                                                           int64_t tiles_w) {
  const int64_t cin = s.in_channels, xi = tb * cin;
  for (int t = 0; t < tb; ++t) {
    const int64_t ty = (tile0 + t) / tiles_w, tx = (tile0 + t) % tiles_w;
    const float* p[36];
    TileInputs<4>(s, x, k, ty, tx, p);
    float* v = k.v + t * cin;
    InputRow4<0>(p, v, xi, cin);
    InputRow4<1>(p, v, xi, cin);
    InputRow4<2>(p, v, xi, cin);
    InputRow4<3>(p, v, xi, cin);
    InputRow4<4>(p, v, xi, cin);
    InputRow4<5>(p, v, xi, cin);
  }
}

// Row R of Y = A^T M A for 16 channels: mt holds the tile's 36 products.
struct Row4 {
  F16 y0, y1, y2, y3;
};
template <int R>
inline __attribute__((always_inline)) Row4 OutputRow4(const float* mt) {
  auto column = [&](int l) __attribute__((always_inline)) {
    return At4<R>(Load16(mt + 16 * l), Load16(mt + 16 * (6 + l)), Load16(mt + 16 * (12 + l)),
                  Load16(mt + 16 * (18 + l)), Load16(mt + 16 * (24 + l)),
                  Load16(mt + 16 * (30 + l)));
  };
  const F16 t0 = column(0), t1 = column(1), t2 = column(2), t3 = column(3), t4 = column(4),
            t5 = column(5);
  return {At4<0>(t0, t1, t2, t3, t4, t5), At4<1>(t0, t1, t2, t3, t4, t5),
          At4<2>(t0, t1, t2, t3, t4, t5), At4<3>(t0, t1, t2, t3, t4, t5)};
}

inline __attribute__((always_inline)) F16 Max16(const F16& a, const F16& b) {
  return a > b ? a : b;
}

// 16 channels from c0 on stored at o: whole, or the first cout - c0.
inline __attribute__((always_inline)) void StoreChannels(float* o, const F16& v, int64_t n) {
  if (n >= 16) return Store16(o, v);
  for (int64_t i = 0; i < n; ++i) o[i] = v[i];
}

// Where a tile's outputs go: output (oy, ox)'s channels, or the sink past
// the output's edge.
struct TileOut {
  float* y;
  const Scratch& k;
  int64_t yh, yw, cout;
  float* at(int64_t oy, int64_t ox) const {
    return oy < yh && ox < yw ? y + (oy * yw + ox) * cout : k.sink;
  }
};

// A tile's 4x4 outputs for 16 channels from c0 on (rows r of A^T M A),
// plus bias, activated; stored, or, with the pool fused, the maxima of its
// four 2x2 windows (activated, then pooled: hard-swish is not monotonic).
template <BnAct A, bool kPool>
inline __attribute__((always_inline)) void StoreTileT(std::bool_constant<kPool>, const TileOut& o,
                                                      const Row4 (&r)[4], const F16& bc, int64_t ty,
                                                      int64_t tx, int64_t c0) {
  const int64_t n = o.cout - c0;
  auto act = [&](const F16& v) __attribute__((always_inline)) { return ActV<A>(v + bc); };
  if constexpr (kPool) {
#pragma GCC unroll 2
    for (int i = 0; i < 2; ++i) {
      const Row4 &a = r[2 * i], &b = r[2 * i + 1];
      StoreChannels(o.at(2 * ty + i, 2 * tx) + c0,
                    Max16(Max16(act(a.y0), act(a.y1)), Max16(act(b.y0), act(b.y1))), n);
      StoreChannels(o.at(2 * ty + i, 2 * tx + 1) + c0,
                    Max16(Max16(act(a.y2), act(a.y3)), Max16(act(b.y2), act(b.y3))), n);
    }
  } else {
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      StoreChannels(o.at(4 * ty + i, 4 * tx) + c0, act(r[i].y0), n);
      StoreChannels(o.at(4 * ty + i, 4 * tx + 1) + c0, act(r[i].y1), n);
      StoreChannels(o.at(4 * ty + i, 4 * tx + 2) + c0, act(r[i].y2), n);
      StoreChannels(o.at(4 * ty + i, 4 * tx + 3) + c0, act(r[i].y3), n);
    }
  }
}

// The activation is a switch per tile and 16 channels around the stores
// alone, not a template parameter of the whole output transform: five
// copies of it in every vector clone were most of this file's build time.
template <bool kPool>
inline __attribute__((always_inline)) void StoreTile(BnAct act, const TileOut& o,
                                                     const Row4 (&r)[4], const F16& bc, int64_t ty,
                                                     int64_t tx, int64_t c0) {
  switch (act) {
    EDGENAS_BN_ACT_CASES(StoreTileT, std::bool_constant<kPool>(), o, r, bc, ty, tx, c0)
  }
}

// Y = A^T M A of each tile, stored by StoreTile.
template <bool kPool>
inline __attribute__((always_inline)) void OutputTransform4(const WinogradShape& s, BnAct act,
                                                            const float* bias, const Scratch& k,
                                                            int tb, int64_t tile0, int64_t tiles_w,
                                                            float* y) {
  const TileOut o{y, k, s.y_height(), s.y_width(), s.out_channels};
  const int64_t cop = s.padded_out();
  for (int t = 0; t < tb; ++t) {
    const int64_t ty = (tile0 + t) / tiles_w, tx = (tile0 + t) % tiles_w;
    for (int64_t c0 = 0; c0 < cop; c0 += 16) {
      const float* mt = k.m + ((c0 / 16 * tb + t) * 36) * 16;
      const Row4 r[4] = {OutputRow4<0>(mt), OutputRow4<1>(mt), OutputRow4<2>(mt),
                         OutputRow4<3>(mt)};
      const F16 bc = Load16(bias + c0);
      StoreTile<kPool>(act, o, r, bc, ty, tx, c0);
    }
  }
}

template <int kMaxNb>
inline __attribute__((always_inline)) void ShareT(const WinogradShape& s, BnAct act, const float* x,
                                                  const float* u, const float* bias, float* scratch,
                                                  int64_t t0, int64_t t1, int64_t tiles_w,
                                                  float* y) {
  Blocks<4, kMaxNb>(
      s, u, scratch, t0, t1,
      [&](const Scratch& k, int tb, int64_t b0)
          __attribute__((always_inline)) { InputTransform4(s, x, k, tb, b0, tiles_w); },
      [&](const Scratch& k, int tb, int64_t b0) __attribute__((always_inline)) {
        if (s.pool) return OutputTransform4<true>(s, act, bias, k, tb, b0, tiles_w, y);
        OutputTransform4<false>(s, act, bias, k, tb, b0, tiles_w, y);
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

void ShareF4x4(const WinogradShape& s, BnAct act, const float* x, const float* u, const float* bias,
               float* scratch, bool wide, int64_t t0, int64_t t1, int64_t tiles_w, float* y) {
#if EDGENAS_HAS_WIDE_VECTORS
  if (wide) return ShareWide(s, act, x, u, bias, scratch, t0, t1, tiles_w, y);
#endif
  (void)wide;
  ShareNarrow(s, act, x, u, bias, scratch, t0, t1, tiles_w, y);
}

}  // namespace winograd
}  // namespace edgenas
