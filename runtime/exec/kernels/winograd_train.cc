// The convolution of winograd_train.h, forward and backward data; the
// weight gradient is in winograd_train_weights.cc.
#include "runtime/exec/kernels/winograd_train.h"

#include <algorithm>

#include "runtime/exec/kernels/gemm_block.h"
#include "runtime/exec/kernels/parallel.h"
#include "runtime/exec/kernels/vec16.h"
#include "runtime/exec/kernels/vector_clones.h"
#include "runtime/exec/kernels/winograd_f4.h"
#include "runtime/exec/kernels/winograd_train_tiles.h"

namespace edgenas {
namespace winograd_train {
namespace {

// M = V U for rows [0, rows) of the chunk, each of the 36 products, up to
// kMaxNb x 16 output channels at a time; between(xi) before product xi.
template <int kMaxNb, typename Between>
inline __attribute__((always_inline)) void Products(const Conv& c, const float* u, const Work& k,
                                                    int rows, Between&& between) {
  for (int xi = 0; xi < 36; ++xi) {
    between(xi);
    const float* vx = k.v + xi * kChunk * c.cin;
    const float* ux = u + xi * c.cin * c.cout;
    for (int64_t c0 = 0; c0 < c.cout;) {
      auto block = [&](auto nb) __attribute__((always_inline)) {
        constexpr int NB = decltype(nb)::value;
        for (int r0 = 0; r0 < rows; r0 += kRows) {
          float* mx = k.m + ((c0 / 16 * kChunk + r0) * 36 + xi) * 16;
          auto out = [&](int t, int j, const F16& s) __attribute__((always_inline)) {
            Store16(mx + (j * kChunk + t) * 36 * 16, s);
          };
          MultiplyBlock<kRows, NB>(vx + r0 * c.cin, c.cin, c.cin, ux + c0, c.cout, 16, out);
        }
        c0 += 16 * NB;
      };
      ForVectorBlocks<kMaxNb>((c.cout - c0) / 16, block);
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
template <int kMaxNb>
inline __attribute__((always_inline)) void ConvShareT(const Conv& c, const float* x, const float* u,
                                                      const float* bias, const Work& k, int64_t t0,
                                                      int64_t t1, float* y) {
  Store16(k.zeros, F16{});
  for (int64_t b0 = t0; b0 < t1; b0 += kChunk) {
    const int n = static_cast<int>(std::min<int64_t>(kChunk, t1 - b0));
    const int rows = (n + kRows - 1) / kRows * kRows;
    for (int r = 0; r < n; ++r) InputTile(c, x, k, Locate(c, b0 + r), r);
    for (int xi = 0; xi < 36; ++xi)  // rows past the last tile: zeros, their products unused
      std::fill(k.v + (xi * kChunk + n) * c.cin, k.v + (xi * kChunk + rows) * c.cin, 0.0f);
    const int64_t b1 = b0 + n, next = std::min<int64_t>(b1 + kChunk, t1);
    Products<kMaxNb>(
        c, u, k, rows, [&](int xi) __attribute__((always_inline)) {
          FetchTiles<false>(c, x, c.cin, b1, next, xi, 36);
          FetchTiles<true>(c, y, c.cout, b0, b1, xi, 36);
        });
    for (int r = 0; r < n; ++r) OutputTile(c, bias, k, Locate(c, b0 + r), r, y);
  }
}

#if EDGENAS_HAS_WIDE_VECTORS
EDGENAS_WIDE_VECTORS
void ConvShareWide(const Conv& c, const float* x, const float* u, const float* bias, const Work& k,
                   int64_t t0, int64_t t1, float* y) {
  ConvShareT<kWideVectorBlocks>(c, x, u, bias, k, t0, t1, y);
}
#endif

EDGENAS_NARROW_CLONES
void ConvShareNarrow(const Conv& c, const float* x, const float* u, const float* bias,
                     const Work& k, int64_t t0, int64_t t1, float* y) {
  ConvShareT<1>(c, x, u, bias, k, t0, t1, y);
}

void ConvShare(const Conv& c, const float* x, const float* u, const float* bias, const Work& k,
               bool wide, int64_t t0, int64_t t1, float* y) {
#if EDGENAS_HAS_WIDE_VECTORS
  if (wide) return ConvShareWide(c, x, u, bias, k, t0, t1, y);
#endif
  (void)wide;
  ConvShareNarrow(c, x, u, bias, k, t0, t1, y);
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
  const bool wide = MaxVectorBlocks() > 1;
  ParallelRun(Threads(parts, (tiles + kChunk - 1) / kChunk), [&](int t, int n) {
    ConvShare(c, x, u, bias, Work(c, scratch, t), wide, tiles * t / n, tiles * (t + 1) / n, y);
  });
}

}  // namespace
}  // namespace winograd_train

int64_t WinogradTrainShape::scratch_floats(int parts) const {
  return std::max(1, parts) * winograd_train::Work::Floats(in_channels, out_channels);
}

bool WinogradTrainApplies(const WinogradTrainShape& s) {
  return s.batch >= 1 && s.in_channels >= 16 && s.in_channels % 16 == 0 && s.out_channels >= 16 &&
         s.out_channels % 16 == 0 && s.height >= 2 && s.width >= 2;
}

void WinogradTrainForward(const WinogradTrainShape& s, const float* x, const float* w,
                          const float* bias, float* u, float* scratch, int parts, float* y) {
  winograd_train::RunConv(winograd_train::ForwardConv(s), x, w, false, bias, u, scratch, parts, y);
}

void WinogradTrainBackwardData(const WinogradTrainShape& s, const float* dy, const float* w,
                               float* u, float* scratch, int parts, float* dx) {
  const winograd_train::Conv c{s.batch, s.out_channels, s.in_channels, s.height, s.width};
  winograd_train::RunConv(c, dy, w, true, nullptr, u, scratch, parts, dx);
}

}  // namespace edgenas
