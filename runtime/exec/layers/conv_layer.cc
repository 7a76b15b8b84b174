// Convolution (grouped and depthwise too, with dilation and bias) on
// oneDNN's convolution primitives; batch norm and activations fused in
// inference, where at batch 1 a conv of few input channels runs our direct
// kernel (small_conv.h), a depthwise conv ours too (dw_conv.h), a 3x3
// stride-1 conv of more channels our Winograd kernel (winograd.h), with a
// 2x2 max pool after it fused, and a 1x1 conv ours (pw_conv.h), with an
// MBConv's residual add.
#include <omp.h>

#include <algorithm>
#include <memory>

#include "runtime/exec/kernels/dw_conv.h"
#include "runtime/exec/kernels/dw_conv_grad.h"
#include "runtime/exec/kernels/pw_conv.h"
#include "runtime/exec/kernels/small_conv.h"
#include "runtime/exec/kernels/winograd.h"
#include "runtime/exec/kernels/winograd_train.h"
#include "runtime/exec/layers/activation.h"
#include "runtime/exec/layers/fold.h"
#include "runtime/exec/layers/layers.h"

namespace edgenas {
namespace {

using dnnl::algorithm;
using dnnl::prop_kind;

// make(alg) for Winograd when `winograd` asks for it and oneDNN has it on
// this CPU (AVX-512), else for direct convolution; *used says which.
template <typename Make>
auto PreferWinograd(bool winograd, Make make, bool* used) {
  if (winograd) {
    try {
      auto pd = make(algorithm::convolution_winograd);
      if (used != nullptr) *used = true;
      return pd;
    } catch (const dnnl::error&) {  // not here: direct below
    }
  }
  if (used != nullptr) *used = false;
  return make(algorithm::convolution_direct);
}

class ConvLayer : public Layer {
 public:
  absl::Status BuildForward(NetBuilder& b) override {
    const ConvAttrs& a = b.node().conv;
    const dnnl::memory::dims in = b.InDims(0), out = b.OutDims();
    const int64_t cin = in[1];
    if (a.groups == 1) {
      wdims_ = {a.out_channels, cin, a.kernel_h, a.kernel_w};
    } else {
      wdims_ = {a.groups, a.out_channels / a.groups, cin / a.groups, a.kernel_h, a.kernel_w};
    }
    strides_ = {a.stride_h, a.stride_w};
    dilates_ = {a.dilation_h - 1, a.dilation_w - 1};
    pad_ = {a.pad_h, a.pad_w};
    const int folded = b.training() ? -1 : b.plan().folded_bn[b.node_index()];
    has_bias_ = a.bias || folded >= 0;
    const MemDesc bias_md = PlainDesc({a.out_channels});

    const std::vector<int>& fused = b.plan().fused[b.node_index()];
    pooled_ = !fused.empty() && b.graph().nodes[fused.back()].op == OpKind::kMaxPool;
    if (UseSmallConv(b)) return BuildSmallConv(b);
    if (UseWinograd(b)) return BuildWinograd(b);
    if (UseDepthwise(b)) return BuildDepthwise(b);
    if (UsePointwise(b)) return BuildPointwise(b);
    if (UseWinogradTraining(b)) return BuildWinogradTraining(b);
    if (pooled_)
      return absl::InternalError("a max pool was fused into a conv that none of our kernels runs");

    const prop_kind prop =
        b.training() ? prop_kind::forward_training : prop_kind::forward_inference;
    dnnl::primitive_attr attr;
    if (!b.training())
      attr.set_post_ops(ActivationPostOps(b.graph(), b.plan().fused[b.node_index()]));
    // Training a 3x3 stride-1 conv of 16 or more channels each way on a
    // batch that our Winograd kernels do not take (channels not in blocks
    // of 16, padding other than 1): oneDNN's Winograd F(4x4, 3x3) for
    // forward and backward data where it has it (AVX-512), 4x fewer
    // multiplies than direct. cnn-bn's conv2 at batch 64 (before ours):
    // forward 0.77 vs 1.02 ms, backward data 1.16 vs 1.26 ms; the weight
    // gradient stays direct (1.03 vs 1.10 ms). oneDNN picks Winograd for the
    // one-channel conv1 too when asked for "auto", which is slower.
    const bool winograd = b.training() && b.batch() >= 16 && a.groups == 1 && a.kernel_h == 3 &&
                          a.kernel_w == 3 && a.stride_h == 1 && a.stride_w == 1 &&
                          a.dilation_h == 1 && a.dilation_w == 1 && cin >= 16 &&
                          a.out_channels >= 16;
    auto make_pd = [&](algorithm alg) {
      auto desc =
          has_bias_
              ? dnnl::convolution_forward::desc(prop, alg, AnyDesc(in), AnyDesc(wdims_), bias_md,
                                                AnyDesc(out), strides_, dilates_, pad_, pad_)
              : dnnl::convolution_forward::desc(prop, alg, AnyDesc(in), AnyDesc(wdims_),
                                                AnyDesc(out), strides_, dilates_, pad_, pad_);
      return dnnl::convolution_forward::primitive_desc(desc, attr, CpuEngine());
    };
    fwd_pd_ = PreferWinograd(winograd, make_pd, &winograd_);

    src_ = b.InputAs(0, fwd_pd_.src_desc());
    LayerWeights w = LoadWeights(b, fwd_pd_.weights_desc(), bias_md, a.bias);
    weights_ = w.weights;
    const int residual = b.training() ? -1 : b.plan().sum_residual[b.node_index()];
    if (residual < 0) {
      b.SetOutput(fwd_pd_.dst_desc());
    } else if (const Value& r = b.values()[residual]; r.md == fwd_pd_.dst_desc()) {
      // The residual add is a sum post-op: the conv adds into r's buffer,
      // which nothing reads after this (PlanFusion checked).
      b.Out().md = r.md;
      b.Out().mem = r.mem;
    } else {  // layouts differ: the residual is copied into the conv's output first
      b.SetOutput(fwd_pd_.dst_desc());
      b.Forward(dnnl::reorder(r.mem, b.Out().mem),
                {{DNNL_ARG_FROM, r.mem}, {DNNL_ARG_TO, b.Out().mem}});
    }
    Args args{{DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, b.Out().mem}};
    if (has_bias_) args[DNNL_ARG_BIAS] = w.bias;
    b.Forward(dnnl::convolution_forward(fwd_pd_), std::move(args));
    return absl::OkStatus();
  }

  absl::Status BuildBackward(NetBuilder& b) override {
    if (wtrain_used_) return BuildWinogradTrainingBackward(b);
    const dnnl::memory::dims in = b.InDims(0), out = b.OutDims();
    const MemDesc bias_md = PlainDesc({b.node().conv.out_channels});
    if (b.InputNeedsGrad(0)) {
      auto make_pd = [&](algorithm alg) {
        dnnl::convolution_backward_data::desc desc(alg, AnyDesc(in), AnyDesc(wdims_), AnyDesc(out),
                                                   strides_, dilates_, pad_, pad_);
        return dnnl::convolution_backward_data::primitive_desc(desc, CpuEngine(), fwd_pd_);
      };
      const auto pd = PreferWinograd(winograd_, make_pd, nullptr);
      dnnl::memory diff_src = b.Alloc(pd.diff_src_desc());
      b.Backward(dnnl::convolution_backward_data(pd),
                 {{DNNL_ARG_DIFF_DST, b.BackwardAs(b.OutDiff(), pd.diff_dst_desc())},
                  {DNNL_ARG_WEIGHTS, b.BackwardAs(weights_, pd.weights_desc())},
                  {DNNL_ARG_DIFF_SRC, diff_src}});
      b.AddInputGrad(0, diff_src);
    }
    auto desc = has_bias_ ? dnnl::convolution_backward_weights::desc(
                                algorithm::convolution_direct, AnyDesc(in), AnyDesc(wdims_),
                                bias_md, AnyDesc(out), strides_, dilates_, pad_, pad_)
                          : dnnl::convolution_backward_weights::desc(
                                algorithm::convolution_direct, AnyDesc(in), AnyDesc(wdims_),
                                AnyDesc(out), strides_, dilates_, pad_, pad_);
    dnnl::convolution_backward_weights::primitive_desc pd(desc, CpuEngine(), fwd_pd_);
    const bool depthwise = wdims_.size() == 5 && wdims_[1] == 1 && wdims_[2] == 1;
    if (depthwise && std::string(pd.impl_info_str()).rfind("jit", 0) != 0) {
      // oneDNN would take im2col + gemm here (e.g. any 5x5): 60x slower.
      BuildDepthwiseWeightGrad(b);
      return absl::OkStatus();
    }
    Args args{{DNNL_ARG_SRC, b.BackwardAs(src_, pd.src_desc())},
              {DNNL_ARG_DIFF_DST, b.BackwardAs(b.OutDiff(), pd.diff_dst_desc())},
              {DNNL_ARG_DIFF_WEIGHTS, b.GradMemory("weight", pd.diff_weights_desc())}};
    if (has_bias_) args[DNNL_ARG_DIFF_BIAS] = b.GradMemory("bias", pd.diff_bias_desc());
    b.Backward(dnnl::convolution_backward_weights(pd), std::move(args));
    return absl::OkStatus();
  }

 private:
  // The activation between a conv and the max pool fused after it, or
  // after the conv with none fused: whether our kernels apply it (*act).
  bool OurActivation(NetBuilder& b, BnAct* act) const {
    const std::vector<int>& fused = b.plan().fused[b.node_index()];
    const size_t acts = fused.size() - (pooled_ ? 1 : 0);
    *act = BnAct::kNone;
    return acts == 0 || (acts == 1 && ActKernelFor(b.graph().nodes[fused[0]].op, act));
  }

  // Inference at batch 1 of a conv with few input channels and an
  // activation our kernels apply (or none), and the max pool fused after
  // it: small_conv.h.
  bool UseSmallConv(NetBuilder& b) {
    if (b.training() || b.batch() != 1 || b.plan().sum_residual[b.node_index()] >= 0 ||
        !SmallConv(b.graph(), b.info(), b.node_index(), &small_))
      return false;
    small_.pool = pooled_;
    return OurActivation(b, &small_act_);
  }

  absl::Status BuildSmallConv(NetBuilder& b) {
    const SmallConvShape shape = small_;
    const int64_t padded = shape.padded_out();
    const tag wtag = padded == 16   ? tag::Acdb16a
                     : padded == 32 ? tag::Acdb32a
                     : padded == 48 ? tag::Acdb48a
                                    : tag::Acdb64a;
    dnnl::memory x = b.InputAs(0, PlainDesc(b.InDims(0)));
    LayerWeights w = LoadWeights(b, MemDesc(wdims_, dt::f32, wtag), PlainDesc({shape.out_channels}),
                                 b.node().conv.bias);
    b.SetOutput(ChannelsLastDesc(PooledDims(b)));
    // The bias padded to whole vectors of 16 (0 without one), made when the
    // weights are loaded.
    auto bias = std::make_shared<std::vector<float>>(padded, 0.0f);
    if (dnnl::memory bm = w.bias)
      b.LoadFn([=] { std::copy(F(bm), F(bm) + shape.out_channels, bias->begin()); });
    const int parts = std::max(1, omp_get_max_threads());
    const int64_t scratch_floats = shape.scratch_floats(parts);
    dnnl::memory scratch;
    if (scratch_floats > 0) scratch = b.Alloc(PlainDesc({scratch_floats}));
    dnnl::memory wm = w.weights, y = b.Out().mem;
    const BnAct act = small_act_;
    b.TeamForwardFn(
        [=] {
          SmallConvForward(shape, act, F(x), F(wm), bias->data(),
                           scratch_floats > 0 ? F(scratch) : nullptr, parts, F(y));
        },
        "small_conv");
    return absl::OkStatus();
  }

  // The node's output dims, pooled when a max pool is fused.
  dnnl::memory::dims PooledDims(NetBuilder& b) const {
    dnnl::memory::dims d = b.OutDims();
    if (pooled_) d[2] /= 2, d[3] /= 2;
    return d;
  }

  // Inference at batch 1 of a 3x3 stride-1 conv (winograd.h), with the
  // activation and the max pool after it that PlanFusion fused.
  bool UseWinograd(NetBuilder& b) {
    if (b.training() || b.batch() != 1 || b.plan().sum_residual[b.node_index()] >= 0 ||
        !WinogradConv(b.graph(), b.info(), b.node_index(), &wino_))
      return false;
    wino_.pool = pooled_;
    wino_.tile = WinogradTile(wino_);
    return OurActivation(b, &wino_act_);
  }

  absl::Status BuildWinograd(NetBuilder& b) {
    const WinogradShape shape = wino_;
    const int64_t cop = shape.padded_out();
    dnnl::memory x = b.InputAs(0, ChannelsLastDesc(b.InDims(0)));
    LayerWeights w =
        LoadWeights(b, PlainDesc(wdims_), PlainDesc({shape.out_channels}), b.node().conv.bias);
    // U = G g G^T and the bias padded to whole vectors, made when the
    // weights are loaded.
    auto u = std::make_shared<std::vector<float>>(shape.weight_floats());
    auto bias = std::make_shared<std::vector<float>>(cop, 0.0f);
    dnnl::memory wm = w.weights, bm = w.bias;
    b.LoadFn([=] {
      WinogradWeights(shape, F(wm), u->data());
      if (bm) std::copy(F(bm), F(bm) + shape.out_channels, bias->begin());
    });
    b.SetOutput(ChannelsLastDesc(PooledDims(b)));
    const int parts = std::max(1, omp_get_max_threads());
    dnnl::memory scratch = b.Alloc(PlainDesc({parts * shape.scratch_per_thread()}));
    dnnl::memory y = b.Out().mem;
    const BnAct act = wino_act_;
    b.TeamForwardFn(
        [=] {
          WinogradForward(shape, act, F(x), u->data(), bias->data(), F(scratch), parts, F(y));
        },
        "winograd");
    return absl::OkStatus();
  }

  // Training on a batch of 16 or more of a 3x3 stride-1 conv with padding
  // 1 and channels in blocks of 16 (winograd_train.h). cnn-bn's conv2 at
  // batch 64, 2 threads, in the net: forward 0.72 -> 0.57 ms, backward data
  // 0.87 -> 0.65, backward weights 1.00 -> 0.68, against oneDNN's Winograd
  // (forward, backward data) and direct (weights) convolutions.
  bool UseWinogradTraining(NetBuilder& b) {
    const ConvAttrs& a = b.node().conv;
    if (!b.training() || b.batch() < 16 || a.groups != 1 || a.kernel_h != 3 || a.kernel_w != 3 ||
        a.stride_h != 1 || a.stride_w != 1 || a.dilation_h != 1 || a.dilation_w != 1 ||
        a.pad_h != 1 || a.pad_w != 1)
      return false;
    const dnnl::memory::dims in = b.InDims(0);
    wtrain_ = WinogradTrainShape{in[0], in[1], a.out_channels, in[2], in[3]};
    return WinogradTrainApplies(wtrain_);
  }

  absl::Status BuildWinogradTraining(NetBuilder& b) {
    const WinogradTrainShape shape = wtrain_;
    wtrain_used_ = true;
    src_ = b.InputAs(0, Blocked16Desc(b.InDims(0)));
    LayerWeights w =
        LoadWeights(b, PlainDesc(wdims_), PlainDesc({shape.out_channels}), b.node().conv.bias);
    weights_ = w.weights;
    bias_ = w.bias;
    b.SetOutput(Blocked16Desc(b.OutDims()));
    wtrain_parts_ = std::max(1, omp_get_max_threads());
    // U and the scratch serve the forward and both backward steps in turn.
    wtrain_u_ = b.Alloc(PlainDesc({shape.u_floats()}));
    wtrain_scratch_ = b.Alloc(PlainDesc({shape.scratch_floats(wtrain_parts_)}));
    dnnl::memory x = src_, wm = weights_, bm = bias_, u = wtrain_u_, scratch = wtrain_scratch_,
                 y = b.Out().mem;
    const int parts = wtrain_parts_;
    b.ForwardFn(
        [=] {
          WinogradTrainForward(shape, F(x), F(wm), bm ? F(bm) : nullptr, F(u), F(scratch), parts,
                               F(y));
        },
        "winograd_train");
    return absl::OkStatus();
  }

  absl::Status BuildWinogradTrainingBackward(NetBuilder& b) {
    const WinogradTrainShape shape = wtrain_;
    const int parts = wtrain_parts_;
    dnnl::memory x = src_, wm = weights_, u = wtrain_u_, scratch = wtrain_scratch_;
    dnnl::memory dy = b.BackwardAs(b.OutDiff(), Blocked16Desc(b.OutDims()));
    if (b.InputNeedsGrad(0)) {
      dnnl::memory dx = b.Alloc(Blocked16Desc(b.InDims(0)));
      b.BackwardFn(
          [=] { WinogradTrainBackwardData(shape, F(dy), F(wm), F(u), F(scratch), parts, F(dx)); },
          "winograd_train_data");
      b.AddInputGrad(0, dx);
    }
    dnnl::memory dw = b.GradMemory("weight", PlainDesc(wdims_)), db;
    if (has_bias_) db = b.GradMemory("bias", PlainDesc({shape.out_channels}));
    b.BackwardFn(
        [=] {
          WinogradTrainBackwardWeights(shape, F(x), F(dy), F(scratch), parts, F(dw),
                                       db ? F(db) : nullptr);
        },
        "winograd_train_weights");
    return absl::OkStatus();
  }

  // Inference at batch 1 of a depthwise conv (dw_conv.h).
  bool UseDepthwise(NetBuilder& b) {
    if (b.training() || b.batch() != 1 || b.plan().sum_residual[b.node_index()] >= 0 ||
        wdims_.size() != 5 || wdims_[1] != 1 || wdims_[2] != 1)
      return false;
    const DepthwiseGeometry g = Geometry(b);
    return DepthwiseForwardApplies(g) && OurActivation(b, &dw_act_);
  }

  absl::Status BuildDepthwise(NetBuilder& b) {
    const DepthwiseGeometry g = Geometry(b);
    dnnl::memory x = b.InputAs(0, ChannelsLastDesc(b.InDims(0)));
    LayerWeights w = LoadWeights(b, MemDesc(wdims_, dt::f32, tag::Goihw16g),
                                 PlainDesc({g.channels}), b.node().conv.bias);
    // Without a bias (none, nothing folded): zeros.
    dnnl::memory bias = w.bias ? w.bias : b.Alloc(PlainDesc({g.channels}));
    b.SetOutput(ChannelsLastDesc(b.OutDims()));
    dnnl::memory wm = w.weights, y = b.Out().mem;
    const BnAct act = dw_act_;
    b.TeamForwardFn([=] { DepthwiseConvForward(g, act, F(x), F(wm), F(bias), F(y)); }, "dw_conv");
    return absl::OkStatus();
  }

  // Inference at batch 1 of a 1x1 stride-1 conv (pw_conv.h): an activation
  // our kernels apply, then a residual add in place (its buffer
  // channels-last), and nothing after the add.
  bool UsePointwise(NetBuilder& b) {
    const ConvAttrs& a = b.node().conv;
    if (b.training() || b.batch() != 1 || pooled_ || a.groups != 1 || a.kernel_h != 1 ||
        a.kernel_w != 1 || a.stride_h != 1 || a.stride_w != 1 || a.pad_h != 0 || a.pad_w != 0)
      return false;
    const dnnl::memory::dims in = b.InDims(0), out = b.OutDims();
    pw_ = PointwiseShape{out[2] * out[3], in[1], out[1], false};
    pw_act_ = BnAct::kNone;
    const std::vector<int>& fused = b.plan().fused[b.node_index()];
    for (size_t i = 0; i < fused.size(); ++i) {
      const OpKind op = b.graph().nodes[fused[i]].op;
      if (op == OpKind::kAdd) {
        if (i + 1 != fused.size()) return false;
        pw_.residual = true;
      } else if (i > 0 || !ActKernelFor(op, &pw_act_)) {
        return false;
      }
    }
    if (pw_.residual) {
      const int r = b.plan().sum_residual[b.node_index()];
      if (r < 0 || b.values()[r].md != ChannelsLastDesc(out)) return false;
    }
    return PointwiseApplies(pw_);
  }

  absl::Status BuildPointwise(NetBuilder& b) {
    const PointwiseShape shape = pw_;
    dnnl::memory x = b.InputAs(0, ChannelsLastDesc(b.InDims(0)));
    LayerWeights w = LoadWeights(b, MemDesc(wdims_, dt::f32, tag::Oihw16o),
                                 PlainDesc({shape.out_channels}), b.node().conv.bias);
    // Without a bias (none, nothing folded): zeros.
    dnnl::memory bias = w.bias ? w.bias : b.Alloc(PlainDesc({shape.out_channels}));
    if (shape.residual) {  // added in place into the residual's buffer, which nothing reads after
      const Value& r = b.values()[b.plan().sum_residual[b.node_index()]];
      b.Out().md = r.md;
      b.Out().mem = r.mem;
    } else {
      b.SetOutput(ChannelsLastDesc(b.OutDims()));
    }
    dnnl::memory wm = w.weights, y = b.Out().mem;
    const BnAct act = pw_act_;
    b.TeamForwardFn([=] { PointwiseConvForward(shape, act, F(x), F(wm), F(bias), F(y)); },
                    "pw_conv");
    return absl::OkStatus();
  }

  DepthwiseGeometry Geometry(NetBuilder& b) const {
    const ConvAttrs& a = b.node().conv;
    const dnnl::memory::dims in = b.InDims(0), out = b.OutDims();
    DepthwiseGeometry g;
    g.batch = in[0], g.channels = in[1];
    g.in_h = in[2], g.in_w = in[3], g.out_h = out[2], g.out_w = out[3];
    g.kernel_h = a.kernel_h, g.kernel_w = a.kernel_w;
    g.stride_h = a.stride_h, g.stride_w = a.stride_w;
    g.dilation_h = a.dilation_h, g.dilation_w = a.dilation_w;
    g.pad_h = a.pad_h, g.pad_w = a.pad_w;
    return g;
  }

  static float* F(const dnnl::memory& m) { return static_cast<float*>(m.get_data_handle()); }

  void BuildDepthwiseWeightGrad(NetBuilder& b) {
    const ConvAttrs& a = b.node().conv;
    const dnnl::memory::dims in = b.InDims(0), out = b.OutDims();
    const DepthwiseGeometry g = Geometry(b);
    dnnl::memory x = b.BackwardAs(src_, Blocked16Desc(in));
    dnnl::memory dy = b.BackwardAs(b.OutDiff(), Blocked16Desc(out));
    dnnl::memory dw = b.GradMemory("weight", PlainDesc(wdims_));
    dnnl::memory db;
    if (has_bias_) db = b.GradMemory("bias", PlainDesc({a.out_channels}));
    b.BackwardFn(
        [=] {
          DepthwiseConvBackwardWeights(g, static_cast<const float*>(x.get_data_handle()),
                                       static_cast<const float*>(dy.get_data_handle()),
                                       static_cast<float*>(dw.get_data_handle()),
                                       db ? static_cast<float*>(db.get_data_handle()) : nullptr);
        },
        "dw_conv_grad");
  }

  dnnl::memory::dims wdims_, strides_, dilates_, pad_;
  bool has_bias_ = false;
  bool winograd_ = false;  // the forward runs Winograd: backward data tries it too
  SmallConvShape small_;
  BnAct small_act_ = BnAct::kNone;
  WinogradShape wino_;
  BnAct wino_act_ = BnAct::kNone;
  WinogradTrainShape wtrain_;
  bool wtrain_used_ = false;  // training runs winograd_train.h's kernels
  int wtrain_parts_ = 1;
  dnnl::memory wtrain_u_, wtrain_scratch_, bias_;
  BnAct dw_act_ = BnAct::kNone;
  PointwiseShape pw_;
  BnAct pw_act_ = BnAct::kNone;
  bool pooled_ = false;  // a max pool is fused: only our small and Winograd kernels run it
  dnnl::convolution_forward::primitive_desc fwd_pd_;
  dnnl::memory src_, weights_;
};

}  // namespace

std::unique_ptr<Layer> MakeConvLayer() { return std::make_unique<ConvLayer>(); }

}  // namespace edgenas
