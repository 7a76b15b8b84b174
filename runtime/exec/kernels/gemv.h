// Dense inference at batch 1: y = act(W x + b), a matrix-vector product
// that is bound by reading W. oneDNN 2.6 runs it as a GEMM with one row
// (3136 -> 128 on 2 threads: 9.5 us for 1.6 MB of weights, which this
// machine's caches deliver in about 4.4 us). Here each thread takes a
// contiguous share of the features and streams its rows of W^T (stored
// features x units) once into accumulators held in registers; the shares
// are summed, the bias added and the activations applied at the end.
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_GEMV_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_GEMV_H_

#include <cstdint>
#include <vector>

#include "runtime/graph/graph.h"

namespace edgenas {

struct GemvShape {
  int64_t features = 1, units = 1;
  int64_t ld = 16;  // W^T's row stride: units rounded up to 16
};

// An activation applied to each output, in order.
struct GemvAct {
  OpKind op = OpKind::kRelu;
  float alpha = 1.0f;  // elu
};

// Whether GemvForward applies `op`.
bool GemvSupports(OpKind op);

// wt: W^T, [features][ld] (the padding columns of each row but the last
// read as 0; the last row may end at its units); bias: [units] or null;
// partial: parts x ld floats of scratch. Runs on up to `parts` threads.
void GemvForward(const GemvShape& s, const float* wt, const float* x, const float* bias,
                 const std::vector<GemvAct>& acts, float* partial, int parts, float* y);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_GEMV_H_
