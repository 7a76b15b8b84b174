// Which kernel runs a conv node, decided in one place. Fusion planning
// (PlanFusion, net.h) asks whether the conv's kernel would run a max pool
// after it inside itself, and the conv layer builds the kernel the same
// question answers, so the two cannot disagree.
//
// A pure function of the graph, the node, the net's mode and batch, and
// what the fusion plan puts in the conv's step after it. Inference at
// batch 1 prefers our own kernels (kernels/): in this order the small
// conv, Winograd, depthwise and pointwise, each when its shape limits and
// the fused activation allow; training at batch 16 or more our Winograd
// kernels; oneDNN runs everything else.
#ifndef EDGENAS_RUNTIME_EXEC_CONV_CHOICE_H_
#define EDGENAS_RUNTIME_EXEC_CONV_CHOICE_H_

#include <vector>

#include "runtime/exec/kernels/act_kernel.h"
#include "runtime/exec/kernels/dw_conv.h"
#include "runtime/exec/kernels/pw_conv.h"
#include "runtime/exec/kernels/small_conv.h"
#include "runtime/exec/kernels/winograd.h"
#include "runtime/exec/kernels/winograd_train.h"
#include "runtime/exec/net_mode.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph.h"

namespace edgenas {

enum class ConvKernel {
  // None runs the conv with what is fused after it: a max pool that neither
  // of our batch-1 kernels with a pool inside takes. PlanFusion then leaves
  // the pool out.
  kNone,
  kSmallConv,       // small_conv.h: batch-1 inference, at most 4 input channels
  kWinograd,        // winograd.h: batch-1 inference, 3x3 stride 1
  kDepthwise,       // dw_conv.h: batch-1 inference, depthwise
  kPointwise,       // pw_conv.h: batch-1 inference, 1x1 stride 1
  kWinogradTrain,   // winograd_train.h: training, 3x3 stride 1 padding 1, channels in 16s
  kOneDnnWinograd,  // oneDNN, Winograd where this CPU has it (else direct)
  kOneDnnDirect,    // oneDNN's direct convolution, activations as post-ops
};

// The enum value's name ("small_conv", ...), for messages and tests.
const char* ConvKernelName(ConvKernel kernel);

// Whether the kernel runs a 2x2 stride-2 max pool after the conv inside
// itself (the pool's value never written at full size).
bool RunsFusedPool(ConvKernel kernel);

// What the fusion plan puts in the conv's step after it (FusionPlan, layer.h).
struct ConvEpilogue {
  // Nodes applied inside the conv's step, in order: activations, a max
  // pool, or an add (a sum post-op) and the activation after it.
  std::vector<int> fused;
  int residual = -1;  // the add's other input, summed in place, or -1
  // The residual's buffer is channels-last (as our kernels write values at
  // batch 1): only then can the pointwise kernel add into it. The layer
  // knows the buffer's layout; planning never asks about a residual.
  bool residual_channels_last = false;
};

struct ConvChoice {
  ConvKernel kernel = ConvKernel::kNone;
  BnAct act = BnAct::kNone;  // the activation our batch-1 kernels apply
  // The chosen kernel's shape; the others are left default.
  SmallConvShape small;    // its `pool` set when the pool is fused
  WinogradShape winograd;  // its `pool` and `tile` set
  DepthwiseGeometry depthwise;
  PointwiseShape pointwise;  // its `residual` set when the add is fused
  WinogradTrainShape winograd_train;
};

// The kernel for conv node v of `graph` (`info` from AnalyzeGraph) in a net
// of `mode` and `batch`, with `after` fused into its step.
ConvChoice ChooseConvKernel(const Graph& graph, const GraphInfo& info, int v, NetMode mode,
                            int batch, const ConvEpilogue& after);

// Conv node v (grouped, one input and one output channel per group) as the
// depthwise kernels see it at `batch`.
DepthwiseGeometry DepthwiseGeometryOf(const Graph& graph, const GraphInfo& info, int v, int batch);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_CONV_CHOICE_H_
