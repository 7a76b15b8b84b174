// The matrices of Winograd's F(4x4, 3x3) (Lavin & Gray 2016), at the
// points 0, 1, -1, 2, -2 and infinity, shared by the batch-1 inference
// kernel (winograd.h) and the training kernels (winograd_train.h):
//   Y = A^T [ (G g G^T) . (B^T d B) ] A
// for a 6x6 input tile d, a 3x3 filter g and a 4x4 output tile Y.
// Each function applies one row of a matrix to a column of values; T is a
// float or a vector of floats (vec16.h), taken by reference: a 64-byte
// vector passed by value in a function of external linkage draws GCC's
// note on the ABI, which vec16.h's pragma does not silence here.
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_WINOGRAD_F4_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_WINOGRAD_F4_H_

namespace edgenas {

// Row I of B^T (6x6) applied to z0..z5.
template <int I, typename T>
inline __attribute__((always_inline)) T Bt4(const T& z0, const T& z1, const T& z2, const T& z3,
                                            const T& z4, const T& z5) {
  if constexpr (I == 0) return 4.0f * z0 - 5.0f * z2 + z4;
  if constexpr (I == 1) return z3 + z4 - 4.0f * (z1 + z2);
  if constexpr (I == 2) return 4.0f * (z1 - z2) + z4 - z3;
  if constexpr (I == 3) return 2.0f * (z3 - z1) + z4 - z2;
  if constexpr (I == 4) return 2.0f * (z1 - z3) + z4 - z2;
  return 4.0f * z1 - 5.0f * z3 + z5;
}

// Row R of A^T (4x6) applied to m0..m5.
template <int R, typename T>
inline __attribute__((always_inline)) T At4(const T& m0, const T& m1, const T& m2, const T& m3,
                                            const T& m4, const T& m5) {
  if constexpr (R == 0) return m0 + m1 + m2 + m3 + m4;
  if constexpr (R == 1) return m1 - m2 + 2.0f * (m3 - m4);
  if constexpr (R == 2) return m1 + m2 + 4.0f * (m3 + m4);
  return m1 - m2 + 8.0f * (m3 - m4) + m5;
}

// Row K of A (6x4, A^T's transpose) applied to d0..d3: the weight gradient
// takes A dY A^T of a 4x4 output-gradient tile dY.
template <int K, typename T>
inline __attribute__((always_inline)) T A4(const T& d0, const T& d1, const T& d2, const T& d3) {
  if constexpr (K == 0) return d0;
  if constexpr (K == 1) return d0 + d1 + d2 + d3;
  if constexpr (K == 2) return d0 - d1 + d2 - d3;
  if constexpr (K == 3) return d0 + 2.0f * d1 + 4.0f * d2 + 8.0f * d3;
  if constexpr (K == 4) return d0 - 2.0f * d1 + 4.0f * d2 - 8.0f * d3;
  return d3;
}

// G (6x3): U = G g G^T.
inline constexpr double kWinogradG4[6][3] = {{1.0 / 4, 0, 0},
                                             {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                             {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                             {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                             {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                             {0, 0, 1}};

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_WINOGRAD_F4_H_
