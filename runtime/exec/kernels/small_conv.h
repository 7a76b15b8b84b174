// Inference of a conv with few input channels (the stem on a 1- or 3-channel
// image), at batch 1: a direct kernel of ours. oneDNN 2.6 handles one
// input channel poorly (cnn-bn's conv1, 1 -> 32 at 28x28: 3.1 us on 2
// threads for 226 K multiply-adds, which the FMA units do in 0.9 us).
// Vectorized over the output channels (at most 64, padded to 16) with
// several output pixels in flight; bias (batch norm folded in) and the
// activation applied before the store. A 3x3 stride-1 kernel (the common
// stem) has its own path: each thread copies its input rows with the
// padding written out, and 4 to 14 pixels' sums stay in registers while
// each input value, broadcast once, feeds its three taps (cnn-bn's conv1
// with its pool: 2.1 us on 2 threads, was 4.7).
//
// Layouts: x plain (C, H, W); weights [kh][kw][ci][co_pad] (oneDNN's
// Acdb{co_pad}a); y channels-last (H, W, C).
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_SMALL_CONV_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_SMALL_CONV_H_

#include <cstdint>

#include "runtime/exec/kernels/act_kernel.h"

namespace edgenas {

struct SmallConvShape {
  int64_t in_channels = 1, height = 1, width = 1;
  int64_t out_channels = 1, out_height = 1, out_width = 1;
  int kernel_h = 3, kernel_w = 3, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int dilation_h = 1, dilation_w = 1;
  // A 2x2 stride-2 max pool (no padding) follows, fused: y is pooled,
  // (out_height / 2, out_width / 2, C), and the conv's rows pass through
  // scratch, two at a time.
  bool pool = false;
  int64_t padded_out() const { return (out_channels + 15) / 16 * 16; }
  // Floats of scratch space SmallConvForward needs on up to `parts` threads
  // (a padded copy of each thread's input rows for a 3x3 stride-1 kernel,
  // two conv rows with the pool).
  int64_t scratch_floats(int parts) const;
};

// Whether SmallConvForward takes a conv of this shape (ungrouped: the
// caller checks that). The net runs such a conv with this kernel at batch 1
// in inference, with a 2x2 stride-2 max pool after it fused (conv_choice.h).
bool SmallConvApplies(const SmallConvShape& s);

// bias: padded_out() floats (0 past out_channels); scratch:
// scratch_floats(parts) floats. Runs on at most `parts` OpenMP threads.
void SmallConvForward(const SmallConvShape& s, BnAct act, const float* x, const float* w,
                      const float* bias, float* scratch, int parts, float* y);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_SMALL_CONV_H_
