// DepthwiseConvForward's path for a 3x3 kernel at stride 1.
#include "runtime/exec/kernels/dw_conv_rows.h"
#include "runtime/exec/kernels/vector_clones.h"

namespace edgenas {
namespace dw_conv {

EDGENAS_VECTOR_CLONES
void RowsStride1(const DepthwiseGeometry& g, BnAct act, const float* x, const float* w,
                 const float* bias, int64_t r0, int64_t r1, float* y) {
  ForRows(
      g, x, w, bias, r0, r1, y,
      [&](const float* xb, const float* wb, const F16& b, int64_t oh, float* yb)
          __attribute__((always_inline)) { Row3x3<1>(g, act, xb, wb, b, oh, yb); });
}

}  // namespace dw_conv
}  // namespace edgenas
