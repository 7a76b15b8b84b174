// The parts of winograd_train.h's kernels that the convolution (forward and
// backward data, winograd_train.cc) and the weight gradient
// (winograd_train_weights.cc) share: the chunks, a thread's scratch, where a
// tile lies, the prefetches and the input transform V = B^T d B. Only those
// two files include it.
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_WINOGRAD_TRAIN_TILES_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_WINOGRAD_TRAIN_TILES_H_

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "runtime/exec/kernels/vec16.h"
#include "runtime/exec/kernels/winograd_f4.h"
#include "runtime/exec/kernels/winograd_train.h"

namespace edgenas {
namespace winograd_train {

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
inline constexpr FloatG kG = MakeFloatG();

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
// and writes, done between the products, left the cores waiting.
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

// Threads for `work` units: at most `parts` and the OpenMP team's size.
inline int Threads(int parts, int64_t work) {
  return static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>({omp_get_max_threads(), parts, work})));
}

inline Conv ForwardConv(const WinogradTrainShape& s) {
  return {s.batch, s.in_channels, s.out_channels, s.height, s.width};
}

}  // namespace winograd_train
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_WINOGRAD_TRAIN_TILES_H_
