// The register block of our small matrix products (Winograd's 16 products,
// the batch-1 1x1 conv): TB rows of A times 16 * NB columns of B, the
// TB x NB sums of 16 in vector registers while k runs. out(t, j, sum) gets
// each sum: row t, columns [16 j, 16 j + 16) of the block. With AVX-512's
// 32 registers, TB x NB up to 24 to 28 (plus NB loads of B and a broadcast
// of A) stays in registers.
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_GEMM_BLOCK_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_GEMM_BLOCK_H_

#include <cstdint>
#include <type_traits>

#include "runtime/exec/kernels/vec16.h"
#include "runtime/exec/kernels/vector_clones.h"

namespace edgenas {

// a: row t at a + t * lda, its k values ka apart; b: row i at b + i * ldb,
// its vector j (columns [16 j, 16 j + 16)) at b + i * ldb + j * bj: bj = 16
// when B's rows are contiguous, or B stored in column blocks of 16
// ([n / 16][k][16], ldb = 16, bj = 16 k), where a block's k x 64 floats lie
// in four streams.
template <int TB, int NB, typename Out>
inline __attribute__((always_inline)) void MultiplyBlockStrided(const float* a, int64_t lda,
                                                                int64_t ka, int64_t k,
                                                                const float* b, int64_t ldb,
                                                                int64_t bj, Out&& out) {
  F16 acc[TB][NB];
#pragma GCC unroll 16
  for (int t = 0; t < TB; ++t)
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) acc[t][j] = F16{};
  for (int64_t i = 0; i < k; ++i) {
    F16 w[NB];
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) w[j] = Load16(b + i * ldb + j * bj);
#pragma GCC unroll 16
    for (int t = 0; t < TB; ++t) {
      const float x = a[t * lda + i * ka];
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) acc[t][j] += x * w[j];
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < TB; ++t)
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) out(t, j, acc[t][j]);
}

// The same with A's rows contiguous (ka = 1).
template <int TB, int NB, typename Out>
inline __attribute__((always_inline)) void MultiplyBlock(const float* a, int64_t lda, int64_t k,
                                                         const float* b, int64_t ldb, int64_t bj,
                                                         Out&& out) {
  MultiplyBlockStrided<TB, NB>(a, lda, 1, k, b, ldb, bj, out);
}

// Vectors of 16 columns a block may hold (NB): four need AVX-512's 32
// registers; AVX2 and NEON hold one. Only code built with
// EDGENAS_WIDE_VECTORS (vector_clones.h) runs with more than one.
constexpr int kWideVectorBlocks = 4;
inline int MaxVectorBlocks() {
#if EDGENAS_HAS_WIDE_VECTORS
  static const int n = __builtin_cpu_supports("avx512f") ? kWideVectorBlocks : 1;
  return n;
#else
  return 1;
#endif
}

// f(std::integral_constant<int, NB>()) with NB = nb clamped to [1,
// kMaxNb]: the blocks wider than a build's kMaxNb are not compiled.
template <int kMaxNb, typename F>
inline __attribute__((always_inline)) void ForVectorBlocks(int64_t nb, F&& f) {
  static_assert(kMaxNb >= 1 && kMaxNb <= kWideVectorBlocks);
  if constexpr (kMaxNb >= 4) {
    if (nb >= 4) return f(std::integral_constant<int, 4>());
  }
  if constexpr (kMaxNb >= 3) {
    if (nb == 3) return f(std::integral_constant<int, 3>());
  }
  if constexpr (kMaxNb >= 2) {
    if (nb == 2) return f(std::integral_constant<int, 2>());
  }
  f(std::integral_constant<int, 1>());
}

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_GEMM_BLOCK_H_
