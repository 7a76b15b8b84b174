// The parts of WinogradForward (winograd.h) that its two tile sizes share:
// a thread's scratch, the products, the loop over blocks of tiles. Each
// tile size's transforms are built in a file of their own
// (winograd_f2x2.cc, winograd_f4x4.cc), so that they compile in parallel.
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_WINOGRAD_BLOCKS_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_WINOGRAD_BLOCKS_H_

#include <algorithm>
#include <cstdint>

#include "runtime/exec/kernels/act_kernel.h"
#include "runtime/exec/kernels/gemm_block.h"
#include "runtime/exec/kernels/vec16.h"
#include "runtime/exec/kernels/winograd.h"

namespace edgenas {
namespace winograd {

// Tiles in a block: 6 x 64 sums fill 24 of 32 AVX-512 registers. F(4x4)
// blocks hold 4, so that their 36 products' V and M stay near L1's size.
template <int M>
constexpr int kMaxTiles = M == 2 ? 6 : 4;
// Rows of V and M a thread's scratch holds: the larger of 16 x 6, 36 x 4.
constexpr int kScratchRows = 144;
static_assert(kScratchRows >= 16 * kMaxTiles<2> && kScratchRows >= 36 * kMaxTiles<4>);

inline int64_t Round16(int64_t n) { return (n + 15) / 16 * 16; }

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

// The alpha^2 products of a block of TB tiles, up to kMaxNb x 16 output
// channels at a time.
template <int M, int TB, int kMaxNb>
inline __attribute__((always_inline)) void Products(const WinogradShape& s, const float* u,
                                                    const Scratch& k) {
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
      ForVectorBlocks<kMaxNb>((cop - c0) / 16, [&](auto nb) __attribute__((always_inline)) {
        constexpr int NB = decltype(nb)::value;
        Product<M, TB, NB>(v, cin, uxi + c0, cop, mat(c0), ldm);
        c0 += 16 * NB;
      });
    }
  }
}

// Tiles [t0, t1) of F(M x M) in blocks of near-equal size, at most
// kMaxTiles<M> each: input(k, tb, b0) transforms block b0's tb tiles into
// V, the products are compiled per block size (their register block), and
// output(k, tb, b0) transforms M into the block's outputs.
template <int M, int kMaxNb, typename Input, typename Output>
inline __attribute__((always_inline)) void Blocks(const WinogradShape& s, const float* u,
                                                  float* scratch, int64_t t0, int64_t t1,
                                                  Input&& input, Output&& output) {
  const Scratch k(s, scratch);
  const int64_t n = t1 - t0, blocks = (n + kMaxTiles<M> - 1) / kMaxTiles<M>;
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t b0 = t0 + n * b / blocks, b1 = t0 + n * (b + 1) / blocks;
    const int tb = static_cast<int>(b1 - b0);
    input(k, tb, b0);
    switch (tb) {
      case 6:
        if constexpr (kMaxTiles<M> >= 6) Products<M, 6, kMaxNb>(s, u, k);
        break;
      case 5:
        if constexpr (kMaxTiles<M> >= 5) Products<M, 5, kMaxNb>(s, u, k);
        break;
      case 4:
        Products<M, 4, kMaxNb>(s, u, k);
        break;
      case 3:
        Products<M, 3, kMaxNb>(s, u, k);
        break;
      case 2:
        Products<M, 2, kMaxNb>(s, u, k);
        break;
      default:
        Products<M, 1, kMaxNb>(s, u, k);
        break;
    }
    output(k, tb, b0);
  }
}

// Tiles [t0, t1) of F(2x2, 3x3) or F(4x4, 3x3) on this thread, with
// `scratch` its own (scratch_per_thread() floats); `wide`: MaxVectorBlocks()
// is more than one.
void ShareF2x2(const WinogradShape& s, BnAct act, const float* x, const float* u, const float* bias,
               float* scratch, bool wide, int64_t t0, int64_t t1, int64_t tiles_w, float* y);
void ShareF4x4(const WinogradShape& s, BnAct act, const float* x, const float* u, const float* bias,
               float* scratch, bool wide, int64_t t0, int64_t t1, int64_t tiles_w, float* y);

}  // namespace winograd
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_WINOGRAD_BLOCKS_H_
