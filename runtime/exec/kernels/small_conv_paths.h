// The paths of SmallConvForward (small_conv.h), each built in its own file
// so that they compile in parallel: any kernel (small_conv_direct.cc) and
// the 3x3 stride-1 kernel with and without the pool (small_conv_3x3.cc).
// Each picks its register block by the conv's channels and calls a
// function built per vector width (vector_clones.h) for it: one function
// holding every block was one of GCC's slowest to compile. Each applies
// the activation by a switch where it stores its sums, not by a template
// parameter of the whole kernel, which would build five copies of every
// loop nest to save a branch per group of pixels.
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_SMALL_CONV_PATHS_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_SMALL_CONV_PATHS_H_

#include <cstdint>

#include "runtime/exec/kernels/act_kernel.h"
#include "runtime/exec/kernels/small_conv.h"

namespace edgenas {
namespace small_conv {

// The 3x3 stride-1 path (no dilation) reads a copy of its input rows with
// the padding written out as zeros, so that its inner loops have no edge
// checks: `rows` rows of `width` floats per input channel, padded row k
// under output row row0 + k.
struct PaddedRows {
  const float* x;
  int64_t width, rows, row0;
};

inline bool Is3x3s1(const SmallConvShape& s) {
  return s.kernel_h == 3 && s.kernel_w == 3 && s.stride_h == 1 && s.stride_w == 1 &&
         s.dilation_h == 1 && s.dilation_w == 1;
}

// Output rows [oh0, oh1) of any conv SmallConvApplies takes, written from y
// on (channels-last), read from the plain x.
void DirectRows(const SmallConvShape& s, BnAct act, const float* x, const float* w,
                const float* bias, float* y, int64_t oh0, int64_t oh1);

// Output rows [oh0, oh1) of a 3x3 stride-1 conv, written from y on, read
// from its padded rows.
void Rows3x3(const SmallConvShape& s, BnAct act, const PaddedRows& in, const float* w,
             const float* bias, float* y, int64_t oh0, int64_t oh1);

// Whether PooledRows3x3 takes this conv (3x3 stride 1, the pool fused): up
// to 32 channels and enough conv columns for its register block.
inline bool PooledInRegisters(const SmallConvShape& s) {
  return s.pool && s.padded_out() <= 32 && s.out_width / 2 * 2 >= (s.padded_out() == 16 ? 8 : 4);
}

// Pooled rows [py0, py1) from conv rows 2 py0 .. 2 py1 of a 3x3 stride-1
// conv, written from y on, the pool's maxima taken in registers.
void PooledRows3x3(const SmallConvShape& s, BnAct act, const PaddedRows& in, const float* w,
                   const float* bias, float* y, int64_t py0, int64_t py1);

}  // namespace small_conv
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_SMALL_CONV_PATHS_H_
