// Inference of a 3x3 stride-1 convolution at batch 1 by Winograd's minimal
// filtering F(m x m, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016): each m x m block of outputs comes from an
// (m + 2) x (m + 2) block of input through
//   Y = A^T [ sum over ci of (G g G^T) . (B^T d B) ] A.
// F(2x2, 3x3) takes 16 multiply-adds per input channel for 4 outputs,
// where direct convolution takes 36; F(4x4, 3x3) 36 for 16 outputs, at
// some cost in rounding error (WinogradKernelTest bounds both).
// The element-wise products over all channels are 16 or 36 small matrix
// products (tiles x Cin by Cin x Cout), done with the tiles' sums in
// registers. Bias (batch norm folded in) and an activation are applied in
// the output transform, and a 2x2 stride-2 max pool after the conv can be
// too: a tile's outputs are whole pool windows (one for F(2x2), four for
// F(4x4)), so the conv's full-size output is never written.
//
// Each thread takes a share of the tiles and carries them through all three
// stages in blocks of up to six (F(4x4): four), so the threads never wait
// for each other.
//
// Layouts: x channels-last (H, W, Cin); the transformed weights
// [alpha^2][Cin][co_pad] (WinogradWeights), co_pad = Cout rounded up to 16;
// y channels-last, (OH, OW, Cout), or pooled (OH/2, OW/2, Cout).
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_WINOGRAD_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_WINOGRAD_H_

#include <cstdint>

#include "runtime/exec/kernels/act_kernel.h"

namespace edgenas {

struct WinogradShape {
  int64_t in_channels = 1, height = 1, width = 1, out_channels = 1;
  int pad_h = 1, pad_w = 1;
  bool pool = false;  // a 2x2 stride-2 max pool (no padding) follows, fused
  // Outputs a tile is wide and high: F(2x2, 3x3) or F(4x4, 3x3)
  // (WinogradTile's choice).
  int tile = 2;
  int alpha() const { return tile + 2; }  // input tile: 4 or 6
  int64_t out_height() const { return height + 2 * pad_h - 2; }
  int64_t out_width() const { return width + 2 * pad_w - 2; }
  int64_t padded_out() const { return (out_channels + 15) / 16 * 16; }
  // Rows and columns of the value written: the conv's output, or pooled.
  int64_t y_height() const { return pool ? out_height() / 2 : out_height(); }
  int64_t y_width() const { return pool ? out_width() / 2 : out_width(); }
  // Floats of scratch space one thread needs.
  int64_t scratch_per_thread() const;
  // Floats of the transformed weights: alpha^2 x in_channels x padded_out.
  int64_t weight_floats() const { return int64_t{alpha()} * alpha() * in_channels * padded_out(); }
};

// Whether a conv (3x3, stride 1, dilation 1, ungrouped: the caller checks
// those) of this shape runs here at batch 1: enough channels each way for
// the transforms to pay (8 in, 16 out) and padding of at most 1. The net
// runs such a conv with this kernel at batch 1 in inference, with a 2x2
// stride-2 max pool after it fused (conv_choice.h).
bool WinogradApplies(const WinogradShape& s);

// The tile for this shape, 2 or 4: F(4x4) when it takes at most 4/5 of
// F(2x2)'s products.
int WinogradTile(const WinogradShape& s);

// U = G g G^T of each (ci, co) 3x3 filter g. w: plain (Cout, Cin, 3, 3);
// u: weight_floats(), [alpha^2][Cin][co_pad], zero past Cout.
void WinogradWeights(const WinogradShape& s, const float* w, float* u);

// bias: padded_out() floats (zero past Cout); scratch: `parts` x
// scratch_per_thread() floats. Runs on at most `parts` OpenMP threads.
void WinogradForward(const WinogradShape& s, BnAct act, const float* x, const float* u,
                     const float* bias, float* scratch, int parts, float* y);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_WINOGRAD_H_
