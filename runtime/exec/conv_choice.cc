#include "runtime/exec/conv_choice.h"

namespace edgenas {
namespace {

const ValueShape& InputShape(const GraphInfo& info, int v) {
  const int src = info.nodes[v].inputs[0];
  return src == kGraphInput ? info.input_shape : info.nodes[src].shape;
}

bool Is3x3Stride1(const ConvAttrs& a) {
  return a.kernel_h == 3 && a.kernel_w == 3 && a.stride_h == 1 && a.stride_w == 1 &&
         a.dilation_h == 1 && a.dilation_w == 1;
}

// The max pool our batch-1 kernels run inside: 2x2, stride 2, no padding.
bool IsFusablePool(const Node& n) {
  const PoolAttrs& p = n.pool;
  return n.op == OpKind::kMaxPool && p.kernel_h == 2 && p.kernel_w == 2 && p.stride_h == 2 &&
         p.stride_w == 2 && p.pad_h == 0 && p.pad_w == 0;
}

// The activation fused after the conv (a trailing pool left out) when our
// batch-1 kernels apply it: none, or one of act_kernel.h's.
bool OurActivation(const Graph& graph, const std::vector<int>& fused, bool pooled, BnAct* act) {
  const size_t acts = fused.size() - (pooled ? 1 : 0);
  *act = BnAct::kNone;
  return acts == 0 || (acts == 1 && ActKernelFor(graph.nodes[fused[0]].op, act));
}

bool SmallConvFits(const Graph& graph, const GraphInfo& info, int v, bool pooled,
                   SmallConvShape* s) {
  const ConvAttrs& a = graph.nodes[v].conv;
  const ValueShape &in = InputShape(info, v), &out = info.nodes[v].shape;
  if (a.groups != 1 || in.flat) return false;
  *s = SmallConvShape{in.channels, in.height,  in.width,     out.channels, out.height,
                      out.width,   a.kernel_h, a.kernel_w,   a.stride_h,   a.stride_w,
                      a.pad_h,     a.pad_w,    a.dilation_h, a.dilation_w, pooled};
  return SmallConvApplies(*s);
}

bool WinogradFits(const Graph& graph, const GraphInfo& info, int v, bool pooled, WinogradShape* s) {
  const ConvAttrs& a = graph.nodes[v].conv;
  const ValueShape& in = InputShape(info, v);
  if (a.groups != 1 || !Is3x3Stride1(a) || in.flat) return false;
  *s = WinogradShape{in.channels, in.height, in.width, a.out_channels, a.pad_h, a.pad_w, pooled};
  if (!WinogradApplies(*s)) return false;
  s->tile = WinogradTile(*s);
  return true;
}

// The pointwise kernel takes one activation of ours, then the residual add
// (into a channels-last buffer), and nothing after the add.
bool PointwiseFits(const Graph& graph, const GraphInfo& info, int v, const ConvEpilogue& after,
                   PointwiseShape* s, BnAct* act) {
  const ConvAttrs& a = graph.nodes[v].conv;
  if (a.groups != 1 || a.kernel_h != 1 || a.kernel_w != 1 || a.stride_h != 1 || a.stride_w != 1 ||
      a.pad_h != 0 || a.pad_w != 0)
    return false;
  const ValueShape &in = InputShape(info, v), &out = info.nodes[v].shape;
  *s = PointwiseShape{int64_t{out.height} * out.width, in.channels, out.channels, false};
  *act = BnAct::kNone;
  for (size_t i = 0; i < after.fused.size(); ++i) {
    const OpKind op = graph.nodes[after.fused[i]].op;
    if (op == OpKind::kAdd) {
      if (i + 1 != after.fused.size()) return false;
      s->residual = true;
    } else if (i > 0 || !ActKernelFor(op, act)) {
      return false;
    }
  }
  if (s->residual && (after.residual < 0 || !after.residual_channels_last)) return false;
  return PointwiseApplies(*s);
}

// Inference at batch 1: one of our kernels, or kNone when a pool is fused
// and neither kernel with a pool inside takes the conv, or false.
bool ChooseBatch1(const Graph& graph, const GraphInfo& info, int v, const ConvEpilogue& after,
                  ConvChoice* c) {
  const std::vector<int>& fused = after.fused;
  const bool pooled = !fused.empty() && graph.nodes[fused.back()].op == OpKind::kMaxPool;
  if (pooled && !IsFusablePool(graph.nodes[fused.back()])) {
    c->kernel = ConvKernel::kNone;
    return true;
  }
  const bool ours = after.residual < 0 && OurActivation(graph, fused, pooled, &c->act);
  if (ours && SmallConvFits(graph, info, v, pooled, &c->small)) {
    c->kernel = ConvKernel::kSmallConv;
    return true;
  }
  if (ours && WinogradFits(graph, info, v, pooled, &c->winograd)) {
    c->kernel = ConvKernel::kWinograd;
    return true;
  }
  if (pooled) {
    c->kernel = ConvKernel::kNone;
    return true;
  }
  const ConvAttrs& a = graph.nodes[v].conv;
  if (ours && a.groups != 1 && a.out_channels == a.groups &&
      InputShape(info, v).channels == a.groups) {
    c->depthwise = DepthwiseGeometryOf(graph, info, v, 1);
    if (DepthwiseForwardApplies(c->depthwise)) {
      c->kernel = ConvKernel::kDepthwise;
      return true;
    }
  }
  if (PointwiseFits(graph, info, v, after, &c->pointwise, &c->act)) {
    c->kernel = ConvKernel::kPointwise;
    return true;
  }
  c->act = BnAct::kNone;
  return false;
}

}  // namespace

const char* ConvKernelName(ConvKernel kernel) {
  switch (kernel) {
    case ConvKernel::kNone:
      return "none";
    case ConvKernel::kSmallConv:
      return "small_conv";
    case ConvKernel::kWinograd:
      return "winograd";
    case ConvKernel::kDepthwise:
      return "dw_conv";
    case ConvKernel::kPointwise:
      return "pw_conv";
    case ConvKernel::kWinogradTrain:
      return "winograd_train";
    case ConvKernel::kOneDnnWinograd:
      return "onednn_winograd";
    case ConvKernel::kOneDnnDirect:
      return "onednn_direct";
  }
  return "?";
}

bool RunsFusedPool(ConvKernel kernel) {
  switch (kernel) {
    case ConvKernel::kSmallConv:
    case ConvKernel::kWinograd:
      return true;
    case ConvKernel::kNone:
    case ConvKernel::kDepthwise:
    case ConvKernel::kPointwise:
    case ConvKernel::kWinogradTrain:
    case ConvKernel::kOneDnnWinograd:
    case ConvKernel::kOneDnnDirect:
      return false;
  }
  return false;
}

DepthwiseGeometry DepthwiseGeometryOf(const Graph& graph, const GraphInfo& info, int v, int batch) {
  const ConvAttrs& a = graph.nodes[v].conv;
  const ValueShape &in = InputShape(info, v), &out = info.nodes[v].shape;
  DepthwiseGeometry g;
  g.batch = batch, g.channels = in.channels;
  g.in_h = in.height, g.in_w = in.width, g.out_h = out.height, g.out_w = out.width;
  g.kernel_h = a.kernel_h, g.kernel_w = a.kernel_w;
  g.stride_h = a.stride_h, g.stride_w = a.stride_w;
  g.dilation_h = a.dilation_h, g.dilation_w = a.dilation_w;
  g.pad_h = a.pad_h, g.pad_w = a.pad_w;
  return g;
}

ConvChoice ChooseConvKernel(const Graph& graph, const GraphInfo& info, int v, NetMode mode,
                            int batch, const ConvEpilogue& after) {
  ConvChoice c;
  if (graph.nodes[v].op != OpKind::kConv) return c;
  const bool training = mode == NetMode::kTrain;
  if (!training && batch == 1 && ChooseBatch1(graph, info, v, after, &c)) return c;
  // Only our batch-1 kernels run a pool inside; PlanFusion fuses none elsewhere.
  if (!after.fused.empty() && graph.nodes[after.fused.back()].op == OpKind::kMaxPool) return c;
  const ConvAttrs& a = graph.nodes[v].conv;
  const ValueShape& in = InputShape(info, v);
  // Training on a batch of 16 or more: 3x3 stride-1 convs of 16 or more
  // channels each way run Winograd F(4x4, 3x3), 4x fewer multiplies than
  // direct: ours (padding 1, channels in blocks of 16: forward and both
  // gradients), else oneDNN's where it has it (AVX-512: forward and backward
  // data, its weight gradient stays direct). The 16-channel floor keeps
  // oneDNN's Winograd off a one-channel stem, where it is slower than direct.
  if (training && batch >= 16 && a.groups == 1 && Is3x3Stride1(a)) {
    c.winograd_train = WinogradTrainShape{batch, in.channels, a.out_channels, in.height, in.width};
    if (a.pad_h == 1 && a.pad_w == 1 && WinogradTrainApplies(c.winograd_train)) {
      c.kernel = ConvKernel::kWinogradTrain;
      return c;
    }
    c.winograd_train = WinogradTrainShape{};
    if (in.channels >= 16 && a.out_channels >= 16) {
      c.kernel = ConvKernel::kOneDnnWinograd;
      return c;
    }
  }
  c.kernel = ConvKernel::kOneDnnDirect;
  return c;
}

}  // namespace edgenas
