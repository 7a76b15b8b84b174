// Inference of a depthwise convolution at batch 1: a direct kernel of ours.
// oneDNN 2.6 spends 1-4 us on each of mobile-tiny's depthwise convs at
// batch 1 on two threads (16 channels at 28x28, stride 2: 1.8 us for 28 K
// multiply-adds), mostly outside the arithmetic.
//
// Channels go in blocks of 16, one vector each: up to eight output pixels of
// a row are summed in registers. A 3x3 kernel at stride 1 or 2 loads each
// input vector of a row once for its three taps, with the nine weight
// vectors held in registers. Bias (batch norm folded in) and the activation
// are applied before the store.
//
// Layouts: x and y channels-last (H, W, C), as oneDNN's batch-1 convs
// keep them; weights [C/16][KH][KW][16] (oneDNN's Goihw16g); bias [C].
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_DW_CONV_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_DW_CONV_H_

#include "runtime/exec/kernels/act_kernel.h"
#include "runtime/exec/kernels/dw_conv_grad.h"

namespace edgenas {

// Batch 1, channels a multiple of 16 and no dilation: the kernel's limits
// (the caller checks that groups = in = out channels).
bool DepthwiseForwardApplies(const DepthwiseGeometry& g);

// Runs on the OpenMP threads.
void DepthwiseConvForward(const DepthwiseGeometry& g, BnAct act, const float* x, const float* w,
                          const float* bias, float* y);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_DW_CONV_H_
