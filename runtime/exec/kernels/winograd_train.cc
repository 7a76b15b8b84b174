#include "runtime/exec/kernels/winograd_train.h"

#include <omp.h>

#include <algorithm>

#include "runtime/exec/kernels/gemm_block.h"
#include "runtime/exec/kernels/parallel.h"
#include "runtime/exec/kernels/vec16.h"
#include "runtime/exec/kernels/vector_clones.h"
#include "runtime/exec/kernels/winograd_f4.h"

namespace edgenas {
namespace {

// Tiles a thread carries through the three stages at a time, a multiple of
// kRows. cnn-bn's conv2 (32 -> 64 channels): the chunk's V (110 KB) and M
// (221 KB) and U (295 KB) stay in a 1 MB L2.
constexpr int kChunk = 24;
// Tiles in the forward products' register block: 6 x 64 sums in 24 of
// AVX-512's 32 registers.
constexpr int kRows = 6;
static_assert(kChunk % kRows == 0);

// A convolution as the forward pass sees it; backward data is one with the
// channels swapped.
struct Conv {
  int64_t batch, cin, cout, h, w;
  int64_t tiles_h() const { return (h + 3) / 4; }
  int64_t tiles_w() const { return (w + 3) / 4; }
  int64_t tiles() const { return batch * tiles_h() * tiles_w(); }
};

// One thread's scratch.
struct Work {
  float* zeros;  // 16: the padding
  float* v;      // [36][kChunk][cin]: B^T d B
  // Forward: [cout / 16][kChunk][36][16], the products, so that a tile's 36
  // of 16 channels lie together. Weights: [36][kChunk][cout], A dY A^T.
  float* m;
  float* du;  // weights: [36][cin][cout], this thread's sums
  float* db;  // weights: [cout], this thread's sums of dy
  // The same for a conv with the channels swapped.
  static int64_t Floats(int64_t cin, int64_t cout) {
    return 16 + int64_t{36} * kChunk * (cin + cout) + 36 * cin * cout + cout;
  }
  Work(const Conv& c, float* scratch, int thread) {
    zeros = scratch + thread * Floats(c.cin, c.cout);
    v = zeros + 16;
    m = v + int64_t{36} * kChunk * c.cin;
    du = m + int64_t{36} * kChunk * c.cout;
    db = du + 36 * c.cin * c.cout;
  }
};

// G of winograd_f4.h in float, for U = G g G^T and dw = G^T dU G.
struct FloatG {
  float v[6][3];
};
constexpr FloatG MakeFloatG() {
  FloatG g{};
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 3; ++j) g.v[i][j] = static_cast<float>(kWinogradG4[i][j]);
  return g;
}
constexpr FloatG kG = MakeFloatG();

struct TilePos {
  int64_t n, ty, tx;
  int rows, cols;  // of its 4x4 outputs inside the image
};

inline TilePos Locate(const Conv& c, int64_t tile) {
  const int64_t per_image = c.tiles_h() * c.tiles_w(), r = tile % per_image;
  TilePos p{tile / per_image, r / c.tiles_w(), r % c.tiles_w(), 0, 0};
  p.rows = static_cast<int>(std::min<int64_t>(4, c.h - 4 * p.ty));
  p.cols = static_cast<int>(std::min<int64_t>(4, c.w - 4 * p.tx));
  return p;
}

// Asks for the lines of `rows` x `cols` pixels of one channel block from
// (y0, x0) on: 16 floats each, one line where the tensor is 64-byte aligned
// (oneDNN's memory is). The kernels ask for the next chunk's inputs, and
// the forward for the chunk's outputs, while the products run, so that
// memory's latency overlaps the arithmetic: cnn-bn's tensors (1.6 and 3.2
// MB at batch 64) come from L3 or DRAM, and without this the chunks' reads
// and writes, done between the products, left the cores waiting. Harness,
// cnn-bn's conv2, 2 threads, tensors cycled through 48 MB: forward 0.72 ->
// 0.58 ms, backward data 0.78 -> 0.61, weights 0.91 -> 0.67.
template <bool kWrite>
inline __attribute__((always_inline)) void FetchPixels(const Conv& c, const float* plane,
                                                       int64_t y0, int64_t x0, int rows, int cols) {
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j)
      __builtin_prefetch(plane + ((y0 + i) * c.w + x0 + j) * 16, kWrite, 2);
}

// Step `step` of `steps`: its share of the (tile, channel block) pairs of
// tiles [t0, t1), each the 4x4 pixels the tile covers (its inputs' halo is
// the neighbours' block, asked for with them or found by the hardware's
// prefetcher, which follows rows).
template <bool kWrite>
inline __attribute__((always_inline)) void FetchTiles(const Conv& c, const float* data,
                                                      int64_t channels, int64_t t0, int64_t t1,
                                                      int step, int steps) {
  const int64_t blocks = channels / 16, pairs = (t1 - t0) * blocks;
  for (int64_t q = pairs * step / steps; q < pairs * (step + 1) / steps; ++q) {
    const TilePos p = Locate(c, t0 + q / blocks);
    const float* plane = data + (p.n * blocks + q % blocks) * c.h * c.w * 16;
    FetchPixels<kWrite>(c, plane, 4 * p.ty, 4 * p.tx, p.rows, p.cols);
  }
}

// The six rows of B^T applied to z[0..5].
inline __attribute__((always_inline)) void Bt4All(const F16* z, F16* out) {
  out[0] = Bt4<0>(z[0], z[1], z[2], z[3], z[4], z[5]);
  out[1] = Bt4<1>(z[0], z[1], z[2], z[3], z[4], z[5]);
  out[2] = Bt4<2>(z[0], z[1], z[2], z[3], z[4], z[5]);
  out[3] = Bt4<3>(z[0], z[1], z[2], z[3], z[4], z[5]);
  out[4] = Bt4<4>(z[0], z[1], z[2], z[3], z[4], z[5]);
  out[5] = Bt4<5>(z[0], z[1], z[2], z[3], z[4], z[5]);
}

// out[6 i + j] (stride floats apart) = (T d T^T)[i][j] for an N x N tile d
// of 16-channel vectors and the 6 x N matrix T whose rows `rows` applies to
// a column of N values: B^T d B of an input tile, A dY A^T of an output
// gradient's. Columns first, then rows.
template <int N, typename Rows>
inline __attribute__((always_inline)) void TransformTile(const F16 (&d)[N][N], Rows rows,
                                                         float* out, int64_t stride) {
  F16 t[6][N];  // t[i][j]: row i of T d, column j
#pragma GCC unroll 6
  for (int j = 0; j < N; ++j) {
    F16 z[N], col[6];
#pragma GCC unroll 6
    for (int i = 0; i < N; ++i) z[i] = d[i][j];
    rows(z, col);
#pragma GCC unroll 6
    for (int i = 0; i < 6; ++i) t[i][j] = col[i];
  }
#pragma GCC unroll 6
  for (int i = 0; i < 6; ++i) {
    F16 row[6];
    rows(t[i], row);
#pragma GCC unroll 6
    for (int j = 0; j < 6; ++j) Store16(out + (6 * i + j) * stride, row[j]);
  }
}

// V = B^T d B of the 6x6 input block of tile p, every channel, into row r of
// the chunk's V.
inline __attribute__((always_inline)) void InputTile(const Conv& c, const float* x, const Work& k,
                                                     const TilePos& p, int r) {
  const int64_t plane = c.h * c.w * 16, blocks = c.cin / 16, xi_stride = kChunk * c.cin;
  int64_t off[36];  // each input pixel's offset in a channel block, -1 past the edges
  for (int i = 0; i < 6; ++i) {
    const int64_t iy = 4 * p.ty - 1 + i;
    for (int j = 0; j < 6; ++j) {
      const int64_t ix = 4 * p.tx - 1 + j;
      off[6 * i + j] = iy >= 0 && iy < c.h && ix >= 0 && ix < c.w ? (iy * c.w + ix) * 16 : -1;
    }
  }
  for (int64_t cb = 0; cb < blocks; ++cb) {
    const float* base = x + (p.n * blocks + cb) * plane;
    F16 d[6][6];
#pragma GCC unroll 6
    for (int i = 0; i < 6; ++i)
#pragma GCC unroll 6
      for (int j = 0; j < 6; ++j)
        d[i][j] = off[6 * i + j] >= 0 ? Load16(base + off[6 * i + j]) : F16{};
    TransformTile<6>(
        d, [](const F16* z, F16* o) __attribute__((always_inline)) { Bt4All(z, o); },
        k.v + r * c.cin + cb * 16, xi_stride);
  }
}

// M = V U for rows [0, rows) of the chunk, each of the 36 products;
// between(xi) before product xi.
template <typename Between>
inline __attribute__((always_inline)) void Products(const Conv& c, const float* u, const Work& k,
                                                    int rows, int max_nb, Between&& between) {
  for (int xi = 0; xi < 36; ++xi) {
    between(xi);
    const float* vx = k.v + xi * kChunk * c.cin;
    const float* ux = u + xi * c.cin * c.cout;
    for (int64_t c0 = 0; c0 < c.cout;) {
      const int nb = static_cast<int>(std::min<int64_t>(max_nb, (c.cout - c0) / 16));
      for (int r0 = 0; r0 < rows; r0 += kRows) {
        float* mx = k.m + ((c0 / 16 * kChunk + r0) * 36 + xi) * 16;
        auto out = [&](int t, int j, const F16& s) __attribute__((always_inline)) {
          Store16(mx + (j * kChunk + t) * 36 * 16, s);
        };
        const float* a = vx + r0 * c.cin;
        switch (nb) {
          case 4:
            MultiplyBlock<kRows, 4>(a, c.cin, c.cin, ux + c0, c.cout, 16, out);
            break;
          case 3:
            MultiplyBlock<kRows, 3>(a, c.cin, c.cin, ux + c0, c.cout, 16, out);
            break;
          case 2:
            MultiplyBlock<kRows, 2>(a, c.cin, c.cin, ux + c0, c.cout, 16, out);
            break;
          default:
            MultiplyBlock<kRows, 1>(a, c.cin, c.cin, ux + c0, c.cout, 16, out);
            break;
        }
      }
      c0 += 16 * nb;
    }
  }
}

// Y = A^T M A plus bias of chunk row r, stored where tile p's outputs lie
// inside the image.
inline __attribute__((always_inline)) void OutputTile(const Conv& c, const float* bias,
                                                      const Work& k, const TilePos& p, int r,
                                                      float* y) {
  const int64_t plane = c.h * c.w * 16, blocks = c.cout / 16;
  for (int64_t cb = 0; cb < blocks; ++cb) {
    const float* mt = k.m + (cb * kChunk + r) * 36 * 16;
    F16 s[4][6];  // s[i][l]: row i of A^T M, column l
#pragma GCC unroll 6
    for (int l = 0; l < 6; ++l) {
      const F16 m0 = Load16(mt + 16 * l), m1 = Load16(mt + 16 * (6 + l)),
                m2 = Load16(mt + 16 * (12 + l)), m3 = Load16(mt + 16 * (18 + l)),
                m4 = Load16(mt + 16 * (24 + l)), m5 = Load16(mt + 16 * (30 + l));
      s[0][l] = At4<0>(m0, m1, m2, m3, m4, m5);
      s[1][l] = At4<1>(m0, m1, m2, m3, m4, m5);
      s[2][l] = At4<2>(m0, m1, m2, m3, m4, m5);
      s[3][l] = At4<3>(m0, m1, m2, m3, m4, m5);
    }
    const F16 b = bias != nullptr ? Load16(bias + cb * 16) : F16{};
    float* o = y + (p.n * blocks + cb) * plane + (4 * p.ty * c.w + 4 * p.tx) * 16;
    for (int i = 0; i < p.rows; ++i) {
      const F16* q = s[i];
      const F16 row[4] = {At4<0>(q[0], q[1], q[2], q[3], q[4], q[5]) + b,
                          At4<1>(q[0], q[1], q[2], q[3], q[4], q[5]) + b,
                          At4<2>(q[0], q[1], q[2], q[3], q[4], q[5]) + b,
                          At4<3>(q[0], q[1], q[2], q[3], q[4], q[5]) + b};
      for (int j = 0; j < p.cols; ++j) Store16(o + (i * c.w + j) * 16, row[j]);
    }
  }
}

// Tiles [t0, t1) of the conv, chunk by chunk.
EDGENAS_VECTOR_CLONES
void ConvShare(const Conv& c, const float* x, const float* u, const float* bias, const Work& k,
               int max_nb, int64_t t0, int64_t t1, float* y) {
  Store16(k.zeros, F16{});
  for (int64_t b0 = t0; b0 < t1; b0 += kChunk) {
    const int n = static_cast<int>(std::min<int64_t>(kChunk, t1 - b0));
    const int rows = (n + kRows - 1) / kRows * kRows;
    for (int r = 0; r < n; ++r) InputTile(c, x, k, Locate(c, b0 + r), r);
    for (int xi = 0; xi < 36; ++xi)  // rows past the last tile: zeros, their products unused
      std::fill(k.v + (xi * kChunk + n) * c.cin, k.v + (xi * kChunk + rows) * c.cin, 0.0f);
    const int64_t b1 = b0 + n, next = std::min<int64_t>(b1 + kChunk, t1);
    Products(
        c, u, k, rows, max_nb, [&](int xi) __attribute__((always_inline)) {
          FetchTiles<false>(c, x, c.cin, b1, next, xi, 36);
          FetchTiles<true>(c, y, c.cout, b0, b1, xi, 36);
        });
    for (int r = 0; r < n; ++r) OutputTile(c, bias, k, Locate(c, b0 + r), r, y);
  }
}

// U = G g G^T for rows [r0, r1) of the [36][rows][cols] result, where
// filter (r, c)'s tap t is w[r * rs + c * cs + t] (t counted from the end
// when `flip`: the filter turned by 180 degrees).
EDGENAS_VECTOR_CLONES
void UShare(const float* w, int64_t rows, int64_t cols, int64_t rs, int64_t cs, bool flip,
            int64_t r0, int64_t r1, float* u) {
  const auto& gm = kG.v;
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t c0 = 0; c0 < cols; c0 += 16) {
      float taps[9][16];
      for (int l = 0; l < 16; ++l) {
        const float* f = w + r * rs + (c0 + l) * cs;
        for (int t = 0; t < 9; ++t) taps[t][l] = f[flip ? 8 - t : t];
      }
      F16 g[9];
      for (int t = 0; t < 9; ++t) g[t] = Load16(taps[t]);
      F16 gg[6][3];  // G g
#pragma GCC unroll 6
      for (int i = 0; i < 6; ++i)
#pragma GCC unroll 3
        for (int j = 0; j < 3; ++j)
          gg[i][j] = gm[i][0] * g[j] + gm[i][1] * g[3 + j] + gm[i][2] * g[6 + j];
#pragma GCC unroll 6
      for (int i = 0; i < 6; ++i)
#pragma GCC unroll 6
        for (int j = 0; j < 6; ++j)
          Store16(u + ((6 * i + j) * rows + r) * cols + c0,
                  gg[i][0] * gm[j][0] + gg[i][1] * gm[j][1] + gg[i][2] * gm[j][2]);
    }
  }
}

int Threads(int parts, int64_t work) {
  return static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>({omp_get_max_threads(), parts, work})));
}

void RunConv(const Conv& c, const float* x, const float* w, bool flip, const float* bias, float* u,
             float* scratch, int parts, float* y) {
  // The filters: forward, w[co][ci] at (co * cin + ci) * 9 is U's row ci,
  // column co; backward data (`flip`, c.cin the forward's out channels),
  // U's row co, column ci.
  const int64_t rs = flip ? c.cout * 9 : 9, cs = flip ? 9 : c.cin * 9;
  ParallelRun(Threads(parts, c.cin / 4), [&](int t, int n) {
    UShare(w, c.cin, c.cout, rs, cs, flip, c.cin * t / n, c.cin * (t + 1) / n, u);
  });
  const int64_t tiles = c.tiles();
  const int max_nb = MaxVectorBlocks();
  ParallelRun(Threads(parts, (tiles + kChunk - 1) / kChunk), [&](int t, int n) {
    ConvShare(c, x, u, bias, Work(c, scratch, t), max_nb, tiles * t / n, tiles * (t + 1) / n, y);
  });
}

// The six rows of A applied to d[0..3].
inline __attribute__((always_inline)) void A4All(const F16* d, F16* out) {
  out[0] = A4<0>(d[0], d[1], d[2], d[3]);
  out[1] = A4<1>(d[0], d[1], d[2], d[3]);
  out[2] = A4<2>(d[0], d[1], d[2], d[3]);
  out[3] = A4<3>(d[0], d[1], d[2], d[3]);
  out[4] = A4<4>(d[0], d[1], d[2], d[3]);
  out[5] = A4<5>(d[0], d[1], d[2], d[3]);
}

// N = A dY A^T of tile p's output gradient (zero past the image's edges),
// every channel, into row r of the chunk's N; dy's values added to db.
inline __attribute__((always_inline)) void GradTile(const Conv& c, const float* dy, const Work& k,
                                                    const TilePos& p, int r) {
  const int64_t plane = c.h * c.w * 16, blocks = c.cout / 16, xi_stride = kChunk * c.cout;
  for (int64_t cb = 0; cb < blocks; ++cb) {
    const float* base = dy + (p.n * blocks + cb) * plane + (4 * p.ty * c.w + 4 * p.tx) * 16;
    F16 d[4][4], sum{};
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i)
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        d[i][j] = i < p.rows && j < p.cols ? Load16(base + (i * c.w + j) * 16) : F16{};
        sum += d[i][j];
      }
    Store16(k.db + cb * 16, Load16(k.db + cb * 16) + sum);
    TransformTile<4>(
        d, [](const F16* z, F16* o) __attribute__((always_inline)) { A4All(z, o); },
        k.m + r * c.cout + cb * 16, xi_stride);
  }
}

// dU[xi][ci][co] += sum over the chunk's n tiles of V[xi][t][ci] N[xi][t][co],
// TB input channels by 16 NB output channels at a time.
template <int TB, int NB>
inline __attribute__((always_inline)) void WeightBlock(const Conv& c, const Work& k, int xi,
                                                       int64_t ci0, int64_t c0, int n) {
  float* du = k.du + (xi * c.cin + ci0) * c.cout + c0;
  MultiplyBlockStrided<TB, NB>(
      k.v + xi * kChunk * c.cin + ci0, 1, c.cin, n, k.m + xi * kChunk * c.cout + c0, c.cout,
      16, [&](int t, int j, const F16& s) __attribute__((always_inline)) {
        float* o = du + t * c.cout + 16 * j;
        Store16(o, Load16(o) + s);
      });
}

template <int TB>
inline __attribute__((always_inline)) void WeightRows(const Conv& c, const Work& k, int xi,
                                                      int64_t ci0, int n, int max_nb) {
  for (int64_t c0 = 0; c0 < c.cout;) {
    switch (std::min<int64_t>(max_nb, (c.cout - c0) / 16)) {
      case 4:
        WeightBlock<TB, 4>(c, k, xi, ci0, c0, n);
        c0 += 64;
        break;
      case 3:
        WeightBlock<TB, 3>(c, k, xi, ci0, c0, n);
        c0 += 48;
        break;
      case 2:
        WeightBlock<TB, 2>(c, k, xi, ci0, c0, n);
        c0 += 32;
        break;
      default:
        WeightBlock<TB, 1>(c, k, xi, ci0, c0, n);
        c0 += 16;
        break;
    }
  }
}

EDGENAS_VECTOR_CLONES
void WeightShare(const Conv& c, const float* x, const float* dy, const Work& k, int max_nb,
                 int64_t t0, int64_t t1) {
  Store16(k.zeros, F16{});
  std::fill(k.du, k.du + 36 * c.cin * c.cout + c.cout, 0.0f);  // du and db
  for (int64_t b0 = t0; b0 < t1; b0 += kChunk) {
    const int n = static_cast<int>(std::min<int64_t>(kChunk, t1 - b0));
    for (int r = 0; r < n; ++r) {
      const TilePos p = Locate(c, b0 + r);
      InputTile(c, x, k, p, r);
      GradTile(c, dy, k, p, r);
    }
    const int64_t b1 = b0 + n, next = std::min<int64_t>(b1 + kChunk, t1);
    for (int xi = 0; xi < 36; ++xi) {
      FetchTiles<false>(c, x, c.cin, b1, next, xi, 36);
      FetchTiles<false>(c, dy, c.cout, b1, next, xi, 36);
      // Channels are multiples of 16: rows of 6, then one of 4 or 2.
      int64_t ci0 = 0;
      for (; ci0 + 6 <= c.cin; ci0 += 6) WeightRows<6>(c, k, xi, ci0, n, max_nb);
      if (c.cin - ci0 == 4) WeightRows<4>(c, k, xi, ci0, n, max_nb);
      if (c.cin - ci0 == 2) WeightRows<2>(c, k, xi, ci0, n, max_nb);
    }
  }
}

// dw = G^T dU G, dU summed over the `parts` threads' sums, for input
// channels [ci0, ci1).
EDGENAS_VECTOR_CLONES
void FinishShare(const Conv& c, float* scratch, int parts, int64_t ci0, int64_t ci1, float* dw) {
  const auto& gm = kG.v;
  for (int64_t ci = ci0; ci < ci1; ++ci) {
    for (int64_t c0 = 0; c0 < c.cout; c0 += 16) {
      F16 g[36];
      for (int xi = 0; xi < 36; ++xi) {
        F16 s{};
        for (int t = 0; t < parts; ++t)
          s += Load16(Work(c, scratch, t).du + (xi * c.cin + ci) * c.cout + c0);
        g[xi] = s;
      }
      F16 h[6][3];  // dU G
#pragma GCC unroll 6
      for (int i = 0; i < 6; ++i)
#pragma GCC unroll 3
        for (int l = 0; l < 3; ++l) {
          F16 s{};
#pragma GCC unroll 6
          for (int j = 0; j < 6; ++j) s += g[6 * i + j] * gm[j][l];
          h[i][l] = s;
        }
      float taps[9][16];
#pragma GCC unroll 3
      for (int kk = 0; kk < 3; ++kk)
#pragma GCC unroll 3
        for (int l = 0; l < 3; ++l) {
          F16 s{};
#pragma GCC unroll 6
          for (int i = 0; i < 6; ++i) s += gm[i][kk] * h[i][l];
          Store16(taps[3 * kk + l], s);
        }
      for (int l = 0; l < 16; ++l) {
        float* f = dw + ((c0 + l) * c.cin + ci) * 9;
        for (int t = 0; t < 9; ++t) f[t] = taps[t][l];
      }
    }
  }
}

Conv Forward(const WinogradTrainShape& s) {
  return {s.batch, s.in_channels, s.out_channels, s.height, s.width};
}

}  // namespace

int64_t WinogradTrainShape::scratch_floats(int parts) const {
  return std::max(1, parts) * Work::Floats(in_channels, out_channels);
}

bool WinogradTrainApplies(const WinogradTrainShape& s) {
  return s.batch >= 1 && s.in_channels >= 16 && s.in_channels % 16 == 0 && s.out_channels >= 16 &&
         s.out_channels % 16 == 0 && s.height >= 2 && s.width >= 2;
}

void WinogradTrainForward(const WinogradTrainShape& s, const float* x, const float* w,
                          const float* bias, float* u, float* scratch, int parts, float* y) {
  RunConv(Forward(s), x, w, false, bias, u, scratch, parts, y);
}

void WinogradTrainBackwardData(const WinogradTrainShape& s, const float* dy, const float* w,
                               float* u, float* scratch, int parts, float* dx) {
  const Conv c{s.batch, s.out_channels, s.in_channels, s.height, s.width};
  RunConv(c, dy, w, true, nullptr, u, scratch, parts, dx);
}

void WinogradTrainBackwardWeights(const WinogradTrainShape& s, const float* x, const float* dy,
                                  float* scratch, int parts, float* dw, float* dbias) {
  const Conv c = Forward(s);
  const int64_t tiles = c.tiles();
  const int max_nb = MaxVectorBlocks();
  int used = 1;
  ParallelRun(Threads(parts, (tiles + kChunk - 1) / kChunk), [&](int t, int n) {
    if (t == 0) used = n;
    WeightShare(c, x, dy, Work(c, scratch, t), max_nb, tiles * t / n, tiles * (t + 1) / n);
  });
  ParallelRun(Threads(parts, c.cin / 4), [&](int t, int n) {
    FinishShare(c, scratch, used, c.cin * t / n, c.cin * (t + 1) / n, dw);
  });
  if (dbias == nullptr) return;
  for (int64_t co = 0; co < c.cout; ++co) {
    float sum = 0.0f;
    for (int t = 0; t < used; ++t) sum += Work(c, scratch, t).db[co];
    dbias[co] = sum;
  }
}

}  // namespace edgenas
