// Batch normalization in training with the activation after it applied in
// the same passes: y = act(gamma * (x - mean) / sqrt(var + eps) + beta),
// mean and var over the batch and the image. oneDNN 2.6 fuses only a ReLU
// into its batch norm; MobileNet-like nets put ReLU6 or hard-swish there,
// which then cost a separate eltwise pass forward and backward over the
// whole tensor (mobile-tiny: 2.5 ms of a 13.7 ms step at batch 64).
//
// Forward reads x twice (statistics, then apply) and writes y; backward
// recomputes the pre-activation from x, so it needs no saved tensor but
// the mean and 1/std, and reads x and dy twice and writes dx once.
//
// Layout: x, y, dy and dx in oneDNN's nChw16c (channels in blocks of 16, the
// block innermost); the padding channels of the last block are written 0.
// gamma, beta, mean, var and the gradients of gamma and beta: plain [C].
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_BN_ACT_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_BN_ACT_H_

#include <cstdint>

#include "runtime/exec/kernels/act_kernel.h"
#include "runtime/graph/graph.h"

namespace edgenas {

// The activations BnActForward applies; ReLU stays with oneDNN's own fusion.
bool BnActSupports(OpKind op, BnAct* act);

struct BnActShape {
  int64_t batch = 1, channels = 1, spatial = 1;  // spatial: H * W
};

// Writes y, and the batch mean, the biased variance and 1 / sqrt(var + eps)
// per channel. Runs on the OpenMP threads.
void BnActForward(const BnActShape& s, BnAct act, float epsilon, const float* x, const float* gamma,
                  const float* beta, float* y, float* mean, float* var, float* inv_std);

// From dy (the gradient of y), writes dx and the gradients of gamma and
// beta (overwritten, not added to).
void BnActBackward(const BnActShape& s, BnAct act, const float* x, const float* dy,
                   const float* gamma, const float* beta, const float* mean, const float* inv_std,
                   float* dx, float* dgamma, float* dbeta);

// Batch norm, an activation (kNone: none) and a max pool whose windows
// tile the image (kernel = stride, no padding, at most 256 positions), all
// in training: conv - batch norm - ReLU - max pool, as in cnn-bn and
// VGG-like candidates. Rows and columns past the last whole window are not
// pooled but count in the statistics. Neither the normalized nor the
// activated tensor is written: forward reads x twice and writes the pooled
// y and, for each pooled value, the window position it came from (`argmax`:
// 0 .. kernel_h * kernel_w - 1, row-major, held in a float so that the
// vector loops need no conversion) and its normalized input (`xhat_max`),
// both in nChw16c like y. Backward forms the reductions from those alone,
// then reads x once to write dx. Ties go to the first position of the
// window in row-major order, as in oneDNN's max pool.
struct BnPoolShape {
  int64_t batch = 1, channels = 1, height = 1, width = 1;
  int kernel_h = 2, kernel_w = 2;
  int64_t pooled_h() const { return height / kernel_h; }
  int64_t pooled_w() const { return width / kernel_w; }
};

// The activations BnActPoolForward takes before a max pool.
bool BnActPoolSupports(OpKind op, BnAct* act);

void BnActPoolForward(const BnPoolShape& s, BnAct act, float epsilon, const float* x,
                      const float* gamma, const float* beta, float* y, float* xhat_max,
                      float* argmax, float* mean, float* var, float* inv_std);

// dy: the gradient of the pooled y. `scratch`: pooled-size floats.
void BnActPoolBackward(const BnPoolShape& s, BnAct act, const float* x, const float* dy,
                       const float* xhat_max, const float* argmax, const float* gamma,
                       const float* beta, const float* mean, const float* inv_std, float* scratch,
                       float* dx, float* dgamma, float* dbeta);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_BN_ACT_H_
