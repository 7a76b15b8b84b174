#include "runtime/exec/layers/winograd.h"

#include <omp.h>

#include <algorithm>

#include "runtime/exec/layers/gemm_block.h"
#include "runtime/exec/layers/parallel.h"
#include "runtime/exec/layers/vec16.h"
#include "runtime/exec/layers/vector_clones.h"

namespace edgenas {
namespace {

constexpr int kMaxTiles = 6;  // tiles in a block: 6 x 64 sums fill 24 of 32 AVX-512 registers

int64_t Round16(int64_t n) { return (n + 15) / 16 * 16; }

// By value: std::max's references to temporaries keep GCC from vectorizing.
inline float Max(float a, float b) { return a > b ? a : b; }

// Each thread's scratch: a row of zeros (the padding), the block's V and M,
// and a row that writes past the output's edge go to.
struct Scratch {
  const float* zeros;
  float* v;  // [16][tiles][Cin]
  float* m;  // [16][tiles][co_pad]
  float* sink;
  Scratch(const WinogradShape& s, float* base) {
    const int64_t cin = Round16(s.in_channels), cop = s.padded_out();
    zeros = base;
    v = base + cin;
    m = v + 16 * kMaxTiles * cin;
    sink = m + 16 * kMaxTiles * cop;
  }
};

// One of the 16 products for TB tiles and 16 * NB output channels:
// m[t][c] = sum over ci of v[t][ci] * u[ci][c].
template <int TB, int NB>
inline __attribute__((always_inline)) void Product(const float* v, int64_t cin, const float* u,
                                                   int64_t ldu, float* m, int64_t ldm) {
  MultiplyBlock<TB, NB>(v, cin, cin, u, ldu, 16,
                        [&](int t, int j, const F16& sum) { Store16(m + t * ldm + 16 * j, sum); });
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
    for (int i = 0; i < 4; ++i) {
      const int64_t iy = 2 * ty - s.pad_h + i;
      for (int j = 0; j < 4; ++j) {
        const int64_t ix = 2 * tx - s.pad_w + j;
        p[4 * i + j] = iy >= 0 && iy < s.height && ix >= 0 && ix < s.width
                           ? x + (iy * s.width + ix) * cin
                           : k.zeros;
      }
    }
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
inline __attribute__((always_inline)) void Output(const WinogradShape& s, const float* bias,
                                                  const Scratch& k, int tb, int64_t tile0,
                                                  int64_t tiles_w, float* y) {
  if (s.pool) return OutputTransform<A, true>(s, bias, k, tb, tile0, tiles_w, y);
  OutputTransform<A, false>(s, bias, k, tb, tile0, tiles_w, y);
}

// The 16 products of a block, `max_nb` x 16 output channels at a time.
template <int TB>
inline __attribute__((always_inline)) void Products(const WinogradShape& s, const float* u,
                                                    const Scratch& k, int max_nb) {
  const int64_t cin = s.in_channels, cop = s.padded_out();
  for (int xi = 0; xi < 16; ++xi) {
    const float* v = k.v + xi * TB * cin;
    const float* uxi = u + xi * cin * cop;
    float* m = k.m + xi * TB * cop;
    for (int64_t c0 = 0; c0 < cop;) {
      switch (std::min<int64_t>(max_nb, (cop - c0) / 16)) {
        case 4:
          Product<TB, 4>(v, cin, uxi + c0, cop, m + c0, cop);
          c0 += 64;
          break;
        case 3:
          Product<TB, 3>(v, cin, uxi + c0, cop, m + c0, cop);
          c0 += 48;
          break;
        case 2:
          Product<TB, 2>(v, cin, uxi + c0, cop, m + c0, cop);
          c0 += 32;
          break;
        default:
          Product<TB, 1>(v, cin, uxi + c0, cop, m + c0, cop);
          c0 += 16;
          break;
      }
    }
  }
}

template <int TB>
inline __attribute__((always_inline)) void Block(const WinogradShape& s, BnAct act, const float* x,
                                                 const float* u, const float* bias,
                                                 const Scratch& k, int max_nb, int64_t tile0,
                                                 int64_t tiles_w, float* y) {
  InputTransform<TB>(s, x, k, tile0, tiles_w);
  Products<TB>(s, u, k, max_nb);
  switch (act) { EDGENAS_BN_ACT_CASES(Output, s, bias, k, TB, tile0, tiles_w, y) }
}

// Tiles [t0, t1) in blocks of near-equal size, at most kMaxTiles each.
EDGENAS_VECTOR_CLONES
void Share(const WinogradShape& s, BnAct act, const float* x, const float* u, const float* bias,
           float* scratch, int max_nb, int64_t t0, int64_t t1, int64_t tiles_w, float* y) {
  const Scratch k(s, scratch);
  const int64_t n = t1 - t0, blocks = (n + kMaxTiles - 1) / kMaxTiles;
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t b0 = t0 + n * b / blocks, b1 = t0 + n * (b + 1) / blocks;
    switch (b1 - b0) {
      case 6:
        Block<6>(s, act, x, u, bias, k, max_nb, b0, tiles_w, y);
        break;
      case 5:
        Block<5>(s, act, x, u, bias, k, max_nb, b0, tiles_w, y);
        break;
      case 4:
        Block<4>(s, act, x, u, bias, k, max_nb, b0, tiles_w, y);
        break;
      case 3:
        Block<3>(s, act, x, u, bias, k, max_nb, b0, tiles_w, y);
        break;
      case 2:
        Block<2>(s, act, x, u, bias, k, max_nb, b0, tiles_w, y);
        break;
      default:
        Block<1>(s, act, x, u, bias, k, max_nb, b0, tiles_w, y);
        break;
    }
  }
}

}  // namespace

int64_t WinogradShape::scratch_per_thread() const {
  const int64_t cin = Round16(in_channels), cop = padded_out();
  return cin + 16 * kMaxTiles * (cin + cop) + cop;
}

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
  return WinogradApplies(*s);
}

void WinogradWeights(const WinogradShape& s, const float* w, float* u) {
  const int64_t cin = s.in_channels, cout = s.out_channels, cop = s.padded_out();
  std::fill(u, u + 16 * cin * cop, 0.0f);
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
  const int64_t tiles_h = s.pool ? s.y_height() : (s.out_height() + 1) / 2;
  const int64_t tiles_w = s.pool ? s.y_width() : (s.out_width() + 1) / 2;
  const int64_t tiles = tiles_h * tiles_w;
  // At least two blocks a thread.
  const int threads = static_cast<int>(std::max<int64_t>(
      1, std::min<int64_t>({omp_get_max_threads(), parts, tiles / (2 * kMaxTiles)})));
  const int max_nb = MaxVectorBlocks();
  const int64_t per_thread = s.scratch_per_thread();
  ParallelRun(threads, [&](int t, int n) {
    Share(s, act, x, u, bias, scratch + t * per_thread, max_nb, tiles * t / n, tiles * (t + 1) / n,
          tiles_w, y);
  });
}

}  // namespace edgenas
