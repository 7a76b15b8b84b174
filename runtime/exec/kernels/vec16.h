// 16 floats as one value for our kernels' inner loops: one AVX-512
// register, two AVX2 ones, four SSE or NEON ones (GCC's vector extensions,
// so the same source builds for every target of EDGENAS_VECTOR_CLONES and
// for aarch64). The activations of act_kernel.h on such a value.
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_VEC16_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_VEC16_H_

#include "runtime/exec/kernels/act_kernel.h"

namespace edgenas {

// Every function here is inlined: the ABI GCC warns about (a 64-byte vector
// returned without AVX-512) is never used.
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float F16 __attribute__((vector_size(64)));
typedef float F16u __attribute__((vector_size(64), aligned(4)));  // at any float's address

inline __attribute__((always_inline)) F16 Load16(const float* p) {
  return *reinterpret_cast<const F16u*>(p);
}
inline __attribute__((always_inline)) void Store16(float* p, const F16& v) {
  *reinterpret_cast<F16u*>(p) = v;
}

// v in every lane. Spelled as an addition to zero, which costs one scalar
// add before the broadcast: written as a list of 16 v's (or v - F16{}),
// GCC 12 built some of them in unrolled kernels as 16 masked broadcasts.
inline __attribute__((always_inline)) F16 Splat16(float v) { return F16{} + v; }

// Written as compares and selects, which become max and min instructions;
// Act's std::max and std::min keep their NaN order and cost mask juggling.
template <BnAct A>
inline __attribute__((always_inline)) F16 ActV(const F16& z) {
  const F16 zero{}, six = zero + 6.0f;
  if constexpr (A == BnAct::kNone) {
    return z;
  } else if constexpr (A == BnAct::kRelu) {
    return z > zero ? z : zero;
  } else if constexpr (A == BnAct::kRelu6) {
    const F16 r = z > zero ? z : zero;
    return r < six ? r : six;
  } else {
    F16 r = z + 3.0f;
    r = r > zero ? r : zero;
    r = r < six ? r : six;
    if constexpr (A == BnAct::kHardSwish) {
      return z * r * (1.0f / 6);
    } else {
      return r * (1.0f / 6);
    }
  }
}

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_VEC16_H_
