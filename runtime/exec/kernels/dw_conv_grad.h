// The weight (and bias) gradient of a depthwise convolution, for the shapes
// where oneDNN 2.6 has no jitted kernel and falls back to im2col + gemm
// (every kernel wider than 3: a 5x5 at 32 channels, 28x28, batch 64 took
// 16 ms there, against 0.25 ms for the jitted 3x3).
//
// Layouts: source and output gradient in oneDNN's nChw16c (channels in
// blocks of 16, the block innermost, the padding channels of the last block
// ignored); the weight gradient plain g11hw, i.e. [C][KH][KW].
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_DW_CONV_GRAD_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_DW_CONV_GRAD_H_

#include <cstdint>

namespace edgenas {

struct DepthwiseGeometry {
  int64_t batch = 1, channels = 1;
  int64_t in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;  // 1: dense kernel
  int64_t pad_h = 0, pad_w = 0;            // top and left (bottom and right follow from the sizes)
};

// diff_weights[c][kh][kw] = sum over n, oh, ow of
//   diff_dst[n][c][oh][ow] * src[n][c][oh*sh - ph + kh*dh][ow*sw - pw + kw*dw]
// (zero outside the image); diff_bias[c] = sum of diff_dst[n][c] when
// diff_bias is not null. Overwrites both. Runs on the OpenMP threads.
void DepthwiseConvBackwardWeights(const DepthwiseGeometry& g, const float* src_nChw16c,
                                  const float* diff_dst_nChw16c, float* diff_weights,
                                  float* diff_bias);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_DW_CONV_GRAD_H_
