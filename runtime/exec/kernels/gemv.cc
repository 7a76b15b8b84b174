#include "runtime/exec/kernels/gemv.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "runtime/exec/kernels/act_kernel.h"
#include "runtime/exec/kernels/parallel.h"
#include "runtime/exec/kernels/vector_clones.h"

namespace edgenas {
namespace {

// out[0, 16 * NB) = sum over f in [f0, f1) of x[f] * wt[f][0, 16 * NB): the
// columns of one pass, their sums in registers (8 x 16 floats at most).
template <int NB>
inline __attribute__((always_inline)) void Columns(const float* wt, int64_t ld, const float* x,
                                                   int64_t f0, int64_t f1, float* out) {
  constexpr int kWidth = 16 * NB;
  float a[kWidth] = {};
  for (int64_t f = f0; f < f1; ++f) {
    const float xv = x[f];
    const float* r = wt + f * ld;
#pragma omp simd
    for (int c = 0; c < kWidth; ++c) a[c] += r[c] * xv;
  }
#pragma omp simd
  for (int c = 0; c < kWidth; ++c) out[c] = a[c];
}

// One thread's share: all ld columns over features [f0, f1), 128 at a time.
EDGENAS_VECTOR_CLONES
void Share(const float* wt, int64_t ld, const float* x, int64_t f0, int64_t f1, float* out) {
  int64_t u = 0;
  for (; u + 128 <= ld; u += 128) Columns<8>(wt + u, ld, x, f0, f1, out + u);
  switch ((ld - u) / 16) {
    case 7:
      return Columns<7>(wt + u, ld, x, f0, f1, out + u);
    case 6:
      return Columns<6>(wt + u, ld, x, f0, f1, out + u);
    case 5:
      return Columns<5>(wt + u, ld, x, f0, f1, out + u);
    case 4:
      return Columns<4>(wt + u, ld, x, f0, f1, out + u);
    case 3:
      return Columns<3>(wt + u, ld, x, f0, f1, out + u);
    case 2:
      return Columns<2>(wt + u, ld, x, f0, f1, out + u);
    case 1:
      return Columns<1>(wt + u, ld, x, f0, f1, out + u);
    default:
      return;
  }
}

// The activations our vector kernels apply come from act_kernel.h; elu,
// sigmoid and tanh (cheap here: one value per output unit) are added.
float Activate(const GemvAct& a, float v) {
  BnAct k;
  if (ActKernelFor(a.op, &k)) {
    switch (k) { EDGENAS_BN_ACT_CASES(Act, v) }
  }
  switch (a.op) {
    case OpKind::kElu:
      return v > 0.0f ? v : a.alpha * std::expm1(v);
    case OpKind::kSigmoid:
      return 1.0f / (1.0f + std::exp(-v));
    case OpKind::kTanh:
      return std::tanh(v);
    default:
      return v;
  }
}

}  // namespace

bool GemvSupports(OpKind op) { return IsActivation(op); }

void GemvForward(const GemvShape& s, const float* wt, const float* x, const float* bias,
                 const std::vector<GemvAct>& acts, float* partial, int parts, float* y) {
  // At least 256 features a share: fewer do not pay for the thread.
  const int threads = static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>({omp_get_max_threads(), parts, s.features / 256})));
  // The last row of W^T holds only `units` values (its padding lies past
  // the buffer): it is added apart, one column at a time.
  const int64_t whole = s.ld == s.units ? s.features : s.features - 1;
  ParallelRun(threads, [&](int t, int n) {
    const int64_t f0 = s.features * t / n, f1 = s.features * (t + 1) / n;
    float* part = partial + t * s.ld;
    Share(wt, s.ld, x, std::min(f0, whole), std::min(f1, whole), part);
    if (f1 > whole) {
      for (int64_t u = 0; u < s.units; ++u) part[u] += x[whole] * wt[whole * s.ld + u];
    }
    TeamBarrier(n);
    for (int64_t u = s.units * t / n; u < s.units * (t + 1) / n; ++u) {
      float v = bias != nullptr ? bias[u] : 0.0f;
      for (int p = 0; p < n; ++p) v += partial[p * s.ld + u];
      for (const GemvAct& a : acts) v = Activate(a, v);
      y[u] = v;
    }
  });
}

}  // namespace edgenas
