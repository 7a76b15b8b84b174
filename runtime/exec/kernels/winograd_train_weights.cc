// The weight gradient of winograd_train.h: dU = sum over tiles of
// (B^T d B) . (A dY A^T), then dw = G^T dU G.
#include <algorithm>

#include "runtime/exec/kernels/gemm_block.h"
#include "runtime/exec/kernels/parallel.h"
#include "runtime/exec/kernels/vec16.h"
#include "runtime/exec/kernels/vector_clones.h"
#include "runtime/exec/kernels/winograd_f4.h"
#include "runtime/exec/kernels/winograd_train.h"
#include "runtime/exec/kernels/winograd_train_tiles.h"

namespace edgenas {
namespace winograd_train {
namespace {

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

template <int TB, int kMaxNb>
inline __attribute__((always_inline)) void WeightRows(const Conv& c, const Work& k, int xi,
                                                      int64_t ci0, int n) {
  for (int64_t c0 = 0; c0 < c.cout;) {
    auto block = [&](auto nb) __attribute__((always_inline)) {
      constexpr int NB = decltype(nb)::value;
      WeightBlock<TB, NB>(c, k, xi, ci0, c0, n);
      c0 += 16 * NB;
    };
    ForVectorBlocks<kMaxNb>((c.cout - c0) / 16, block);
  }
}

template <int kMaxNb>
inline __attribute__((always_inline)) void WeightShareT(const Conv& c, const float* x,
                                                        const float* dy, const Work& k, int64_t t0,
                                                        int64_t t1) {
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
      for (; ci0 + 6 <= c.cin; ci0 += 6) WeightRows<6, kMaxNb>(c, k, xi, ci0, n);
      if (c.cin - ci0 == 4) WeightRows<4, kMaxNb>(c, k, xi, ci0, n);
      if (c.cin - ci0 == 2) WeightRows<2, kMaxNb>(c, k, xi, ci0, n);
    }
  }
}

#if EDGENAS_HAS_WIDE_VECTORS
EDGENAS_WIDE_VECTORS
void WeightShareWide(const Conv& c, const float* x, const float* dy, const Work& k, int64_t t0,
                     int64_t t1) {
  WeightShareT<kWideVectorBlocks>(c, x, dy, k, t0, t1);
}
#endif

EDGENAS_NARROW_CLONES
void WeightShareNarrow(const Conv& c, const float* x, const float* dy, const Work& k, int64_t t0,
                       int64_t t1) {
  WeightShareT<1>(c, x, dy, k, t0, t1);
}

void WeightShare(const Conv& c, const float* x, const float* dy, const Work& k, bool wide,
                 int64_t t0, int64_t t1) {
#if EDGENAS_HAS_WIDE_VECTORS
  if (wide) return WeightShareWide(c, x, dy, k, t0, t1);
#endif
  (void)wide;
  WeightShareNarrow(c, x, dy, k, t0, t1);
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

}  // namespace
}  // namespace winograd_train

void WinogradTrainBackwardWeights(const WinogradTrainShape& s, const float* x, const float* dy,
                                  float* scratch, int parts, float* dw, float* dbias) {
  using winograd_train::Work;
  const winograd_train::Conv c = winograd_train::ForwardConv(s);
  const int64_t tiles = c.tiles();
  const bool wide = MaxVectorBlocks() > 1;
  const int64_t chunks = (tiles + winograd_train::kChunk - 1) / winograd_train::kChunk;
  int used = 1;
  ParallelRun(winograd_train::Threads(parts, chunks), [&](int t, int n) {
    if (t == 0) used = n;
    winograd_train::WeightShare(c, x, dy, Work(c, scratch, t), wide, tiles * t / n,
                                tiles * (t + 1) / n);
  });
  ParallelRun(winograd_train::Threads(parts, c.cin / 4), [&](int t, int n) {
    winograd_train::FinishShare(c, scratch, used, c.cin * t / n, c.cin * (t + 1) / n, dw);
  });
  if (dbias == nullptr) return;
  for (int64_t co = 0; co < c.cout; ++co) {
    float sum = 0.0f;
    for (int t = 0; t < used; ++t) sum += Work(c, scratch, t).db[co];
    dbias[co] = sum;
  }
}

}  // namespace edgenas
