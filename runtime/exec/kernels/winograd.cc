#include "runtime/exec/kernels/winograd.h"

#include <omp.h>

#include <algorithm>

#include "runtime/exec/kernels/gemm_block.h"
#include "runtime/exec/kernels/parallel.h"
#include "runtime/exec/kernels/vec16.h"
#include "runtime/exec/kernels/vector_clones.h"
#include "runtime/exec/kernels/winograd_f4.h"

namespace edgenas {
namespace {

// Tiles in a block: 6 x 64 sums fill 24 of 32 AVX-512 registers. F(4x4)
// blocks hold 4, so that their 36 products' V and M stay near L1's size.
template <int M>
constexpr int kMaxTiles = M == 2 ? 6 : 4;
// Rows of V and M a thread's scratch holds: the larger of 16 x 6, 36 x 4.
constexpr int kScratchRows = 144;
static_assert(kScratchRows >= 16 * kMaxTiles<2> && kScratchRows >= 36 * kMaxTiles<4>);

int64_t Round16(int64_t n) { return (n + 15) / 16 * 16; }

// By value: std::max's references to temporaries keep GCC from vectorizing.
inline float Max(float a, float b) { return a > b ? a : b; }

// Each thread's scratch: a row of zeros (the padding), the block's V and M,
// and a row that writes past the output's edge go to.
struct Scratch {
  const float* zeros;
  float* v;  // [alpha^2][tiles][Cin]
  float* m;  // F(2x2): [16][tiles][co_pad]; F(4x4): [co_pad / 16][tiles][36][16]
  float* sink;
  Scratch(const WinogradShape& s, float* base) {
    const int64_t cin = Round16(s.in_channels), cop = s.padded_out();
    zeros = base;
    v = base + cin;
    m = v + kScratchRows * cin;
    sink = m + kScratchRows * cop;
  }
};

// One of the alpha^2 products for TB tiles and 16 * NB output channels:
// m[t][c] = sum over ci of v[t][ci] * u[ci][c].
// F(2x2)'s M: [16][tiles][co_pad], m at product xi's first row, ldm =
// co_pad. F(4x4)'s M: [co_pad / 16][tiles][36][16], so that one tile's 36
// products of 16 channels lie at fixed offsets from one address; m at
// product xi of the first tile and channel block, ldm = 36 x 16 (a tile),
// blocks tiles x 36 x 16 apart.
template <int M, int TB, int NB>
inline __attribute__((always_inline)) void Product(const float* v, int64_t cin, const float* u,
                                                   int64_t ldu, float* m, int64_t ldm) {
  if constexpr (M == 2) {
    MultiplyBlock<TB, NB>(v, cin, cin, u, ldu, 16, [&](int t, int j, const F16& sum) {
      Store16(m + t * ldm + 16 * j, sum);
    });
  } else {
    MultiplyBlock<TB, NB>(v, cin, cin, u, ldu, 16, [&](int t, int j, const F16& sum) {
      Store16(m + (j * TB + t) * ldm, sum);
    });
  }
}

// The (M + 2) x (M + 2) input pixels of F(M x M)'s tile (ty, tx), row-major:
// each its Cin channels, or the row of zeros past the image's edges.
template <int M>
inline __attribute__((always_inline)) void TileInputs(const WinogradShape& s, const float* x,
                                                      const Scratch& k, int64_t ty, int64_t tx,
                                                      const float** p) {
  constexpr int kAlpha = M + 2;
  for (int i = 0; i < kAlpha; ++i) {
    const int64_t iy = M * ty - s.pad_h + i;
    for (int j = 0; j < kAlpha; ++j) {
      const int64_t ix = M * tx - s.pad_w + j;
      p[kAlpha * i + j] = iy >= 0 && iy < s.height && ix >= 0 && ix < s.width
                              ? x + (iy * s.width + ix) * s.in_channels
                              : k.zeros;
    }
  }
}

// V = B^T d B of each of the block's tiles, every input channel: first
// down each of the 4 columns of the 4x4 input, then along each row.
template <int TB>
inline __attribute__((always_inline)) void InputTransform(const WinogradShape& s, const float* x,
                                                          const Scratch& k, int64_t tile0,
                                                          int64_t tiles_w) {
  const int64_t cin = s.in_channels, xi = TB * cin;  // V's stride between products
  for (int t = 0; t < TB; ++t) {
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

template <int TB>
inline __attribute__((always_inline)) void InputTransform4(const WinogradShape& s, const float* x,
                                                           const Scratch& k, int64_t tile0,
                                                           int64_t tiles_w) {
  const int64_t cin = s.in_channels, xi = TB * cin;
  for (int t = 0; t < TB; ++t) {
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

// Each tile's 4x4 outputs plus bias, activated; stored (those past the
// output's edge into the sink), or, with the pool fused, the maxima of its
// four 2x2 windows (activated, then pooled: hard-swish is not monotonic).
template <BnAct A, bool kPool>
inline __attribute__((always_inline)) void OutputTransform4(const WinogradShape& s,
                                                            const float* bias, const Scratch& k,
                                                            int tb, int64_t tile0, int64_t tiles_w,
                                                            float* y) {
  const int64_t cout = s.out_channels, cop = s.padded_out();
  const int64_t yh = s.y_height(), yw = s.y_width();
  for (int t = 0; t < tb; ++t) {
    const int64_t ty = (tile0 + t) / tiles_w, tx = (tile0 + t) % tiles_w;
    auto at = [&](int64_t oy, int64_t ox) {
      return oy < yh && ox < yw ? y + (oy * yw + ox) * cout : k.sink;
    };
    for (int64_t c0 = 0; c0 < cop; c0 += 16) {
      const float* mt = k.m + ((c0 / 16 * tb + t) * 36) * 16;
      const F16 bc = Load16(bias + c0);
      const int64_t n = cout - c0;
      auto act = [&](const F16& v) __attribute__((always_inline)) { return ActV<A>(v + bc); };
      if constexpr (kPool) {
        const Row4 r0 = OutputRow4<0>(mt), r1 = OutputRow4<1>(mt);
        StoreChannels(at(2 * ty, 2 * tx) + c0,
                      Max16(Max16(act(r0.y0), act(r0.y1)), Max16(act(r1.y0), act(r1.y1))), n);
        StoreChannels(at(2 * ty, 2 * tx + 1) + c0,
                      Max16(Max16(act(r0.y2), act(r0.y3)), Max16(act(r1.y2), act(r1.y3))), n);
        const Row4 r2 = OutputRow4<2>(mt), r3 = OutputRow4<3>(mt);
        StoreChannels(at(2 * ty + 1, 2 * tx) + c0,
                      Max16(Max16(act(r2.y0), act(r2.y1)), Max16(act(r3.y0), act(r3.y1))), n);
        StoreChannels(at(2 * ty + 1, 2 * tx + 1) + c0,
                      Max16(Max16(act(r2.y2), act(r2.y3)), Max16(act(r3.y2), act(r3.y3))), n);
      } else {
        auto store = [&](int64_t oy, const Row4& q) __attribute__((always_inline)) {
          StoreChannels(at(oy, 4 * tx) + c0, act(q.y0), n);
          StoreChannels(at(oy, 4 * tx + 1) + c0, act(q.y1), n);
          StoreChannels(at(oy, 4 * tx + 2) + c0, act(q.y2), n);
          StoreChannels(at(oy, 4 * tx + 3) + c0, act(q.y3), n);
        };
        store(4 * ty, OutputRow4<0>(mt));
        store(4 * ty + 1, OutputRow4<1>(mt));
        store(4 * ty + 2, OutputRow4<2>(mt));
        store(4 * ty + 3, OutputRow4<3>(mt));
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

template <int M, BnAct A>
inline __attribute__((always_inline)) void OutputT(const WinogradShape& s, const float* bias,
                                                   const Scratch& k, int tb, int64_t tile0,
                                                   int64_t tiles_w, float* y) {
  if constexpr (M == 2) {
    if (s.pool) return OutputTransform<A, true>(s, bias, k, tb, tile0, tiles_w, y);
    OutputTransform<A, false>(s, bias, k, tb, tile0, tiles_w, y);
  } else {
    if (s.pool) return OutputTransform4<A, true>(s, bias, k, tb, tile0, tiles_w, y);
    OutputTransform4<A, false>(s, bias, k, tb, tile0, tiles_w, y);
  }
}

template <BnAct A>
inline __attribute__((always_inline)) void Output2(const WinogradShape& s, const float* bias,
                                                   const Scratch& k, int tb, int64_t tile0,
                                                   int64_t tiles_w, float* y) {
  OutputT<2, A>(s, bias, k, tb, tile0, tiles_w, y);
}

template <BnAct A>
inline __attribute__((always_inline)) void Output4(const WinogradShape& s, const float* bias,
                                                   const Scratch& k, int tb, int64_t tile0,
                                                   int64_t tiles_w, float* y) {
  OutputT<4, A>(s, bias, k, tb, tile0, tiles_w, y);
}

// The alpha^2 products of a block, `max_nb` x 16 output channels at a time.
template <int M, int TB>
inline __attribute__((always_inline)) void Products(const WinogradShape& s, const float* u,
                                                    const Scratch& k, int max_nb) {
  const int64_t cin = s.in_channels, cop = s.padded_out();
  for (int xi = 0; xi < (M + 2) * (M + 2); ++xi) {
    const float* v = k.v + xi * TB * cin;
    const float* uxi = u + xi * cin * cop;
    // Where channels c0 on of product xi go, and M's row stride (Product).
    auto mat = [&](int64_t c0) __attribute__((always_inline)) {
      return M == 2 ? k.m + xi * TB * cop + c0 : k.m + (c0 / 16 * TB * 36 + xi) * 16;
    };
    const int64_t ldm = M == 2 ? cop : 36 * 16;
    for (int64_t c0 = 0; c0 < cop;) {
      switch (std::min<int64_t>(max_nb, (cop - c0) / 16)) {
        case 4:
          Product<M, TB, 4>(v, cin, uxi + c0, cop, mat(c0), ldm);
          c0 += 64;
          break;
        case 3:
          Product<M, TB, 3>(v, cin, uxi + c0, cop, mat(c0), ldm);
          c0 += 48;
          break;
        case 2:
          Product<M, TB, 2>(v, cin, uxi + c0, cop, mat(c0), ldm);
          c0 += 32;
          break;
        default:
          Product<M, TB, 1>(v, cin, uxi + c0, cop, mat(c0), ldm);
          c0 += 16;
          break;
      }
    }
  }
}

template <int M, int TB>
inline __attribute__((always_inline)) void Block(const WinogradShape& s, BnAct act, const float* x,
                                                 const float* u, const float* bias,
                                                 const Scratch& k, int max_nb, int64_t tile0,
                                                 int64_t tiles_w, float* y) {
  if constexpr (M == 2) {
    InputTransform<TB>(s, x, k, tile0, tiles_w);
    Products<M, TB>(s, u, k, max_nb);
    switch (act) { EDGENAS_BN_ACT_CASES(Output2, s, bias, k, TB, tile0, tiles_w, y) }
  } else {
    InputTransform4<TB>(s, x, k, tile0, tiles_w);
    Products<M, TB>(s, u, k, max_nb);
    switch (act) { EDGENAS_BN_ACT_CASES(Output4, s, bias, k, TB, tile0, tiles_w, y) }
  }
}

// Tiles [t0, t1) in blocks of near-equal size, at most kMaxTiles<M> each.
template <int M>
inline __attribute__((always_inline)) void ShareT(const WinogradShape& s, BnAct act, const float* x,
                                                  const float* u, const float* bias, float* scratch,
                                                  int max_nb, int64_t t0, int64_t t1,
                                                  int64_t tiles_w, float* y) {
  const Scratch k(s, scratch);
  const int64_t n = t1 - t0, blocks = (n + kMaxTiles<M> - 1) / kMaxTiles<M>;
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t b0 = t0 + n * b / blocks, b1 = t0 + n * (b + 1) / blocks;
    switch (b1 - b0) {
      case 6:
        if constexpr (kMaxTiles<M> >= 6) Block<M, 6>(s, act, x, u, bias, k, max_nb, b0, tiles_w, y);
        break;
      case 5:
        if constexpr (kMaxTiles<M> >= 5) Block<M, 5>(s, act, x, u, bias, k, max_nb, b0, tiles_w, y);
        break;
      case 4:
        Block<M, 4>(s, act, x, u, bias, k, max_nb, b0, tiles_w, y);
        break;
      case 3:
        Block<M, 3>(s, act, x, u, bias, k, max_nb, b0, tiles_w, y);
        break;
      case 2:
        Block<M, 2>(s, act, x, u, bias, k, max_nb, b0, tiles_w, y);
        break;
      default:
        Block<M, 1>(s, act, x, u, bias, k, max_nb, b0, tiles_w, y);
        break;
    }
  }
}

EDGENAS_VECTOR_CLONES
void Share(const WinogradShape& s, BnAct act, const float* x, const float* u, const float* bias,
           float* scratch, int max_nb, int64_t t0, int64_t t1, int64_t tiles_w, float* y) {
  if (s.tile == 4) return ShareT<4>(s, act, x, u, bias, scratch, max_nb, t0, t1, tiles_w, y);
  ShareT<2>(s, act, x, u, bias, scratch, max_nb, t0, t1, tiles_w, y);
}

}  // namespace

int64_t WinogradShape::scratch_per_thread() const {
  const int64_t cin = Round16(in_channels), cop = padded_out();
  return cin + kScratchRows * (cin + cop) + cop;
}

namespace {

// Tiles of F(m x m) over the value written (conv output, or pooled).
int64_t TilesH(const WinogradShape& s, int m) {
  return s.pool ? (s.y_height() * 2 + m - 1) / m : (s.out_height() + m - 1) / m;
}
int64_t TilesW(const WinogradShape& s, int m) {
  return s.pool ? (s.y_width() * 2 + m - 1) / m : (s.out_width() + m - 1) / m;
}

}  // namespace

bool WinogradApplies(const WinogradShape& s) {
  return s.in_channels >= 8 && s.out_channels >= 16 && s.pad_h >= 0 && s.pad_h <= 1 &&
         s.pad_w >= 0 && s.pad_w <= 1 && s.out_height() >= 2 && s.out_width() >= 2;
}

bool WinogradConv(const Graph& graph, const GraphInfo& info, int v, WinogradShape* s) {
  const Node& n = graph.nodes[v];
  if (n.op != OpKind::kConv) return false;
  const ConvAttrs& a = n.conv;
  const int src = info.nodes[v].inputs[0];
  const ValueShape& in = src == kGraphInput ? info.input_shape : info.nodes[src].shape;
  if (a.groups != 1 || a.kernel_h != 3 || a.kernel_w != 3 || a.stride_h != 1 || a.stride_w != 1 ||
      a.dilation_h != 1 || a.dilation_w != 1 || in.flat)
    return false;
  *s = WinogradShape{in.channels, in.height, in.width, a.out_channels, a.pad_h, a.pad_w, false};
  if (!WinogradApplies(*s)) return false;
  s->tile = WinogradTile(*s);
  return true;
}

int WinogradTile(const WinogradShape& s) {
  // Products: 36 per F(4x4) tile against 16 per F(2x2) tile; F(4x4)'s
  // transforms cost more, and its tiles reach further past the edges.
  const int64_t f2 = 16 * TilesH(s, 2) * TilesW(s, 2), f4 = 36 * TilesH(s, 4) * TilesW(s, 4);
  return f4 * 5 <= f2 * 4 ? 4 : 2;
}

// U = G g G^T of F(4x4, 3x3), computed in double.
void WinogradWeights4(const WinogradShape& s, const float* w, float* u) {
  const int64_t cin = s.in_channels, cout = s.out_channels, cop = s.padded_out();
  const auto& kG = kWinogradG4;
  for (int64_t co = 0; co < cout; ++co) {
    for (int64_t ci = 0; ci < cin; ++ci) {
      const float* g = w + (co * cin + ci) * 9;
      double t[6][3];  // G g
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 3; ++j)
          t[i][j] = kG[i][0] * g[j] + kG[i][1] * g[3 + j] + kG[i][2] * g[6 + j];
      for (int i = 0; i < 6; ++i)  // (G g) G^T
        for (int j = 0; j < 6; ++j)
          u[((6 * i + j) * cin + ci) * cop + co] =
              static_cast<float>(t[i][0] * kG[j][0] + t[i][1] * kG[j][1] + t[i][2] * kG[j][2]);
    }
  }
}

void WinogradWeights(const WinogradShape& s, const float* w, float* u) {
  const int64_t cin = s.in_channels, cout = s.out_channels, cop = s.padded_out();
  std::fill(u, u + s.weight_floats(), 0.0f);
  if (s.tile == 4) return WinogradWeights4(s, w, u);
  for (int64_t co = 0; co < cout; ++co) {
    for (int64_t ci = 0; ci < cin; ++ci) {
      const float* g = w + (co * cin + ci) * 9;
      float t[4][3];  // G g
      for (int j = 0; j < 3; ++j) {
        t[0][j] = g[j];
        t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
        t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
        t[3][j] = g[6 + j];
      }
      for (int i = 0; i < 4; ++i) {  // (G g) G^T
        const float r[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]),
                            0.5f * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
        for (int j = 0; j < 4; ++j) u[((4 * i + j) * cin + ci) * cop + co] = r[j];
      }
    }
  }
}

void WinogradForward(const WinogradShape& s, BnAct act, const float* x, const float* u,
                     const float* bias, float* scratch, int parts, float* y) {
  const int64_t tiles_w = TilesW(s, s.tile), tiles = TilesH(s, s.tile) * tiles_w;
  // At least two blocks a thread.
  const int max_tiles = s.tile == 4 ? kMaxTiles<4> : kMaxTiles<2>;
  const int threads = static_cast<int>(std::max<int64_t>(
      1, std::min<int64_t>({omp_get_max_threads(), parts, tiles / (2 * max_tiles)})));
  const int max_nb = MaxVectorBlocks();
  const int64_t per_thread = s.scratch_per_thread();
  ParallelRun(threads, [&](int t, int n) {
    Share(s, act, x, u, bias, scratch + t * per_thread, max_nb, tiles * t / n, tiles * (t + 1) / n,
          tiles_w, y);
  });
}

}  // namespace edgenas
