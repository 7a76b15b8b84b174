// Training of a 3x3 stride-1 convolution with padding 1 (output as large as
// the input) on a batch, by Winograd's F(4x4, 3x3) (Lavin & Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016; winograd_f4.h):
// forward, backward data and backward weights, each with 36 products of
// tiles x channels matrices where direct convolution takes 144 multiply-adds
// per 4x4 block of outputs, input channel and output channel.
//
// - Forward: y = conv(x, w) + bias, with U = G g G^T of each filter made
//   from the plain weights on every call (the weights change every step).
// - Backward data: dx = the same convolution of dy with each filter turned
//   by 180 degrees and its in and out channels swapped.
// - Backward weights: dU = sum over tiles of (B^T d B) . (A dY A^T), then
//   dw = G^T dU G (Lavin & Gray section 4.2); the bias gradient is dy's sum.
//
// Every tile (4x4 outputs of one image) is independent: each thread takes a
// contiguous share of the batch's tiles and carries them through the input
// transform, the products and the output transform in chunks small enough
// that the chunk's transformed values and U stay in its core's L2. The
// weight gradient's sums are kept per thread and added at the end.
//
// Layouts: x, y, dy and dx in oneDNN's nChw16c (channels in blocks of 16,
// the block innermost); channels are multiples of 16. w and dw plain
// (Cout, Cin, 3, 3); bias and its gradient plain [Cout].
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_WINOGRAD_TRAIN_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_WINOGRAD_TRAIN_H_

#include <cstdint>

namespace edgenas {

struct WinogradTrainShape {
  int64_t batch = 1, in_channels = 16, out_channels = 16, height = 1, width = 1;
  // Floats of the transformed weights: 36 x Cin x Cout.
  int64_t u_floats() const { return 36 * in_channels * out_channels; }
  // Floats of scratch space the three calls need on `parts` threads.
  int64_t scratch_floats(int parts) const;
};

// Channels multiples of 16 and an image of at least 2x2.
bool WinogradTrainApplies(const WinogradTrainShape& s);

// u: u_floats() of space for U. Each call runs on at most `parts` OpenMP
// threads; bias may be null (none).
void WinogradTrainForward(const WinogradTrainShape& s, const float* x, const float* w,
                          const float* bias, float* u, float* scratch, int parts, float* y);
void WinogradTrainBackwardData(const WinogradTrainShape& s, const float* dy, const float* w,
                               float* u, float* scratch, int parts, float* dx);
// Overwrites dw and, when not null, dbias.
void WinogradTrainBackwardWeights(const WinogradTrainShape& s, const float* x, const float* dy,
                                  float* scratch, int parts, float* dw, float* dbias);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_WINOGRAD_TRAIN_H_
