// Inference of a 1x1 stride-1 conv at batch 1 (the pointwise convs of
// depthwise-separable blocks and MBConv's expand and project): a matrix
// product of the pixels (channels-last rows) with the weights, our own
// kernel. Bias (batch norm folded in), then the activation, then the
// residual add of an MBConv (the residual is y's old contents), before the
// store. Blocks of up to 6 pixels x 64 output channels (or 12 x 32) keep
// their sums in registers; the threads split the output channels first.
//
// Layouts: x (pixels, in_channels); weights in blocks of 16 output channels,
// [out_channels / 16][in_channels][16] (oneDNN's Oihw16o), so that a block's
// weights lie in four contiguous streams: as (in_channels, out_channels),
// 512 output channels put the rows 2 KB apart and into few of L1's sets
// (MBConv's expand on one thread: 116 -> 127 G multiply-adds/s);
// y (pixels, out_channels).
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_PW_CONV_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_PW_CONV_H_

#include <cstdint>

#include "runtime/exec/kernels/act_kernel.h"

namespace edgenas {

struct PointwiseShape {
  int64_t pixels = 1, in_channels = 1, out_channels = 16;
  // y holds the residual, which is added after the activation.
  bool residual = false;
};

// Whether PointwiseConvForward takes this shape: out_channels a multiple of
// 16.
bool PointwiseApplies(const PointwiseShape& s);

// bias: out_channels floats. Runs its share on each thread of a team (see
// parallel.h's ParallelRun).
void PointwiseConvForward(const PointwiseShape& s, BnAct act, const float* x, const float* w,
                          const float* bias, float* y);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_PW_CONV_H_
