// Convolution (grouped and depthwise too, with dilation and bias): the
// adapter between the net and the kernel ChooseConvKernel (conv_choice.h)
// picks, oneDNN's convolution primitives or one of ours (kernels/), with
// batch norm folded and activations, a max pool or a residual add fused in
// inference as the fusion plan says.
#include <omp.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "runtime/exec/conv_choice.h"
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
    const int64_t cin = b.InDims(0)[1];
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
    choice_ = ChooseConvKernel(b.graph(), b.info(), b.node_index(),
                               b.training() ? NetMode::kTrain : NetMode::kInference, b.batch(),
                               Epilogue(b));
    switch (choice_.kernel) {
      case ConvKernel::kSmallConv:
        return BuildSmallConv(b);
      case ConvKernel::kWinograd:
        return BuildWinograd(b);
      case ConvKernel::kDepthwise:
        return BuildDepthwise(b);
      case ConvKernel::kPointwise:
        return BuildPointwise(b);
      case ConvKernel::kWinogradTrain:
        return BuildWinogradTraining(b);
      case ConvKernel::kOneDnnWinograd:
      case ConvKernel::kOneDnnDirect:
        return BuildOneDnn(b);
      case ConvKernel::kNone:
        break;
    }
    return absl::InternalError("the fusion plan put a step after the conv that no kernel runs");
  }

  absl::Status BuildBackward(NetBuilder& b) override {
    switch (choice_.kernel) {
      case ConvKernel::kWinogradTrain:
        return BuildWinogradTrainingBackward(b);
      case ConvKernel::kOneDnnWinograd:
      case ConvKernel::kOneDnnDirect:
        return BuildOneDnnBackward(b);
      case ConvKernel::kNone:
      case ConvKernel::kSmallConv:
      case ConvKernel::kWinograd:
      case ConvKernel::kDepthwise:
      case ConvKernel::kPointwise:
        break;
    }
    return absl::InternalError(
        absl::StrCat("no backward pass for the inference kernel ", ConvKernelName(choice_.kernel)));
  }

 private:
  // What the fusion plan put in the conv's step, and the residual's layout.
  ConvEpilogue Epilogue(NetBuilder& b) const {
    ConvEpilogue e;
    e.fused = b.plan().fused[b.node_index()];
    e.residual = b.training() ? -1 : b.plan().sum_residual[b.node_index()];
    e.residual_channels_last =
        e.residual >= 0 && b.values()[e.residual].md == ChannelsLastDesc(b.OutDims());
    return e;
  }

  // oneDNN's convolution, Winograd when the choice asks for it and this CPU
  // has it (AVX-512); activations and a residual add as post-ops.
  absl::Status BuildOneDnn(NetBuilder& b) {
    const ConvAttrs& a = b.node().conv;
    const dnnl::memory::dims in = b.InDims(0), out = b.OutDims();
    const MemDesc bias_md = PlainDesc({a.out_channels});
    const prop_kind prop =
        b.training() ? prop_kind::forward_training : prop_kind::forward_inference;
    dnnl::primitive_attr attr;
    if (!b.training())
      attr.set_post_ops(ActivationPostOps(b.graph(), b.plan().fused[b.node_index()]));
    // Forward and backward data; the weight gradient stays direct.
    const bool winograd = choice_.kernel == ConvKernel::kOneDnnWinograd;
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

  absl::Status BuildOneDnnBackward(NetBuilder& b) {
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
  absl::Status BuildSmallConv(NetBuilder& b) {
    const SmallConvShape shape = choice_.small;
    const int64_t padded = shape.padded_out();
    const tag wtag = padded == 16   ? tag::Acdb16a
                     : padded == 32 ? tag::Acdb32a
                     : padded == 48 ? tag::Acdb48a
                                    : tag::Acdb64a;
    dnnl::memory x = b.InputAs(0, PlainDesc(b.InDims(0)));
    LayerWeights w = LoadWeights(b, MemDesc(wdims_, dt::f32, wtag), PlainDesc({shape.out_channels}),
                                 b.node().conv.bias);
    b.SetOutput(ChannelsLastDesc(PooledDims(b, shape.pool)));
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
    const BnAct act = choice_.act;
    b.TeamForwardFn(
        [=] {
          SmallConvForward(shape, act, F(x), F(wm), bias->data(),
                           scratch_floats > 0 ? F(scratch) : nullptr, parts, F(y));
        },
        "small_conv");
    return absl::OkStatus();
  }

  // The node's output dims, pooled when a max pool is fused.
  static dnnl::memory::dims PooledDims(NetBuilder& b, bool pooled) {
    dnnl::memory::dims d = b.OutDims();
    if (pooled) d[2] /= 2, d[3] /= 2;
    return d;
  }

  absl::Status BuildWinograd(NetBuilder& b) {
    const WinogradShape shape = choice_.winograd;
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
    b.SetOutput(ChannelsLastDesc(PooledDims(b, shape.pool)));
    const int parts = std::max(1, omp_get_max_threads());
    dnnl::memory scratch = b.Alloc(PlainDesc({parts * shape.scratch_per_thread()}));
    dnnl::memory y = b.Out().mem;
    const BnAct act = choice_.act;
    b.TeamForwardFn(
        [=] {
          WinogradForward(shape, act, F(x), u->data(), bias->data(), F(scratch), parts, F(y));
        },
        "winograd");
    return absl::OkStatus();
  }

  absl::Status BuildWinogradTraining(NetBuilder& b) {
    const WinogradTrainShape shape = choice_.winograd_train;
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
    const WinogradTrainShape shape = choice_.winograd_train;
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

  absl::Status BuildDepthwise(NetBuilder& b) {
    const DepthwiseGeometry g = choice_.depthwise;
    dnnl::memory x = b.InputAs(0, ChannelsLastDesc(b.InDims(0)));
    LayerWeights w = LoadWeights(b, MemDesc(wdims_, dt::f32, tag::Goihw16g),
                                 PlainDesc({g.channels}), b.node().conv.bias);
    // Without a bias (none, nothing folded): zeros.
    dnnl::memory bias = w.bias ? w.bias : b.Alloc(PlainDesc({g.channels}));
    b.SetOutput(ChannelsLastDesc(b.OutDims()));
    dnnl::memory wm = w.weights, y = b.Out().mem;
    const BnAct act = choice_.act;
    b.TeamForwardFn([=] { DepthwiseConvForward(g, act, F(x), F(wm), F(bias), F(y)); }, "dw_conv");
    return absl::OkStatus();
  }

  absl::Status BuildPointwise(NetBuilder& b) {
    const PointwiseShape shape = choice_.pointwise;
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
    const BnAct act = choice_.act;
    b.TeamForwardFn([=] { PointwiseConvForward(shape, act, F(x), F(wm), F(bias), F(y)); },
                    "pw_conv");
    return absl::OkStatus();
  }

  static float* F(const dnnl::memory& m) { return static_cast<float*>(m.get_data_handle()); }

  void BuildDepthwiseWeightGrad(NetBuilder& b) {
    const ConvAttrs& a = b.node().conv;
    const dnnl::memory::dims in = b.InDims(0), out = b.OutDims();
    const DepthwiseGeometry g = DepthwiseGeometryOf(b.graph(), b.info(), b.node_index(), b.batch());
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
  ConvChoice choice_;      // the kernel that runs the conv, and its shape
  bool winograd_ = false;  // oneDNN's forward runs Winograd: backward data tries it too
  int wtrain_parts_ = 1;
  dnnl::memory wtrain_u_, wtrain_scratch_, bias_;
  dnnl::convolution_forward::primitive_desc fwd_pd_;
  dnnl::memory src_, weights_;
};

}  // namespace

std::unique_ptr<Layer> MakeConvLayer() { return std::make_unique<ConvLayer>(); }

}  // namespace edgenas
