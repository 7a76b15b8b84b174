#include "runtime/exec/kernels/pw_conv.h"

#include <omp.h>

#include <algorithm>

#include "runtime/exec/kernels/gemm_block.h"
#include "runtime/exec/kernels/parallel.h"
#include "runtime/exec/kernels/vec16.h"
#include "runtime/exec/kernels/vector_clones.h"

namespace edgenas {
namespace {

// z activated (EDGENAS_BN_ACT_CASES: a switch, not a template parameter).
inline __attribute__((always_inline)) F16 Activate(BnAct act, const F16& z) {
  switch (act) { EDGENAS_BN_ACT_CASES(ActV, z) }
  return z;
}

// Pixels [p0, p0 + TB) x channels [c0, c0 + 16 NB). The activation is a
// switch per stored vector, not a template: a vector of sums takes
// in_channels multiply-adds, and five times the instances would not pay.
template <int TB, int NB>
inline __attribute__((always_inline)) void Block(const PointwiseShape& s, BnAct act, const float* x,
                                                 const float* w, const float* bias, int64_t p0,
                                                 int64_t c0, float* y) {
  const int64_t cin = s.in_channels, cout = s.out_channels;
  float* out = y + p0 * cout + c0;
  MultiplyBlock<TB, NB>(x + p0 * cin, cin, cin, w + c0 * cin, 16, 16 * cin,
                        [&](int t, int j, const F16& sum) {
                          float* o = out + t * cout + 16 * j;
                          const F16 v = Activate(act, sum + Load16(bias + c0 + 16 * j));
                          Store16(o, s.residual ? v + Load16(o) : v);
                        });
}

// Up to this many pixels a block, for NB vectors of channels.
constexpr int MaxRows(int nb) { return nb <= 2 ? 12 : 6; }

template <int NB>
inline __attribute__((always_inline)) void Rows(const PointwiseShape& s, BnAct act, const float* x,
                                                const float* w, const float* bias, int64_t p0,
                                                int64_t rows, int64_t c0, float* y) {
  constexpr int kMax = MaxRows(NB);
  for (; rows > kMax; rows -= kMax, p0 += kMax)  // not from Units' blocks
    Block<kMax, NB>(s, act, x, w, bias, p0, c0, y);
  switch (rows) {
    case 12:
      if constexpr (NB <= 2) return Block<12, NB>(s, act, x, w, bias, p0, c0, y);
      break;
    case 11:
      if constexpr (NB <= 2) return Block<11, NB>(s, act, x, w, bias, p0, c0, y);
      break;
    case 10:
      if constexpr (NB <= 2) return Block<10, NB>(s, act, x, w, bias, p0, c0, y);
      break;
    case 9:
      if constexpr (NB <= 2) return Block<9, NB>(s, act, x, w, bias, p0, c0, y);
      break;
    case 8:
      if constexpr (NB <= 2) return Block<8, NB>(s, act, x, w, bias, p0, c0, y);
      break;
    case 7:
      if constexpr (NB <= 2) return Block<7, NB>(s, act, x, w, bias, p0, c0, y);
      break;
    case 6:
      return Block<6, NB>(s, act, x, w, bias, p0, c0, y);
    case 5:
      return Block<5, NB>(s, act, x, w, bias, p0, c0, y);
    case 4:
      return Block<4, NB>(s, act, x, w, bias, p0, c0, y);
    case 3:
      return Block<3, NB>(s, act, x, w, bias, p0, c0, y);
    case 2:
      return Block<2, NB>(s, act, x, w, bias, p0, c0, y);
    default:
      return Block<1, NB>(s, act, x, w, bias, p0, c0, y);
  }
}

// Work units [u0, u1): unit u is channel chunk u / blocks (of 16 * nb
// channels, nb <= kMaxNb, but the last) and pixel block u % blocks.
template <int kMaxNb>
inline __attribute__((always_inline)) void UnitsT(const PointwiseShape& s, BnAct act,
                                                  const float* x, const float* w, const float* bias,
                                                  int nb, int64_t u0, int64_t u1, float* y) {
  const int64_t chunk = 16 * nb, blocks = (s.pixels + MaxRows(nb) - 1) / MaxRows(nb);
  for (int64_t u = u0; u < u1; ++u) {
    const int64_t c0 = u / blocks * chunk, b = u % blocks;
    const int64_t p0 = s.pixels * b / blocks, p1 = s.pixels * (b + 1) / blocks;
    auto rows = [&](auto nb_now) __attribute__((always_inline)) {
      Rows<decltype(nb_now)::value>(s, act, x, w, bias, p0, p1 - p0, c0, y);
    };
    ForVectorBlocks<kMaxNb>(std::min<int64_t>(nb, (s.out_channels - c0) / 16), rows);
  }
}

#if EDGENAS_HAS_WIDE_VECTORS
EDGENAS_WIDE_VECTORS
void UnitsWide(const PointwiseShape& s, BnAct act, const float* x, const float* w,
               const float* bias, int nb, int64_t u0, int64_t u1, float* y) {
  UnitsT<kWideVectorBlocks>(s, act, x, w, bias, nb, u0, u1, y);
}
#endif

EDGENAS_NARROW_CLONES
void UnitsNarrow(const PointwiseShape& s, BnAct act, const float* x, const float* w,
                 const float* bias, int nb, int64_t u0, int64_t u1, float* y) {
  UnitsT<1>(s, act, x, w, bias, nb, u0, u1, y);
}

void Units(const PointwiseShape& s, BnAct act, const float* x, const float* w, const float* bias,
           bool wide, int nb, int64_t u0, int64_t u1, float* y) {
#if EDGENAS_HAS_WIDE_VECTORS
  if (wide) return UnitsWide(s, act, x, w, bias, nb, u0, u1, y);
#endif
  (void)wide;
  UnitsNarrow(s, act, x, w, bias, nb, u0, u1, y);
}

}  // namespace

bool PointwiseApplies(const PointwiseShape& s) {
  return s.pixels >= 1 && s.in_channels >= 1 && s.out_channels >= 16 && s.out_channels % 16 == 0;
}

void PointwiseConvForward(const PointwiseShape& s, BnAct act, const float* x, const float* w,
                          const float* bias, float* y) {
  const int max_nb = MaxVectorBlocks();
  const int nb = static_cast<int>(std::min<int64_t>(max_nb, s.out_channels / 16));
  const bool wide = max_nb > 1;
  const int64_t chunks = (s.out_channels + 16 * nb - 1) / (16 * nb);
  const int64_t blocks = (s.pixels + MaxRows(nb) - 1) / MaxRows(nb);
  const int64_t units = chunks * blocks;
  ParallelRun(static_cast<int>(std::min<int64_t>(omp_get_max_threads(), units)), [&](int t, int n) {
    Units(s, act, x, w, bias, wide, nb, units * t / n, units * (t + 1) / n, y);
  });
}

}  // namespace edgenas
