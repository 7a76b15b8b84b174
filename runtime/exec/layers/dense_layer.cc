// Dense (inner product) over the flattened input; batch norm and
// activations fused in inference, where batch 1 runs our matrix-vector
// product (gemv.h).
#include <omp.h>

#include "runtime/exec/kernels/gemv.h"
#include "runtime/exec/layers/activation.h"
#include "runtime/exec/layers/fold.h"
#include "runtime/exec/layers/layers.h"

namespace edgenas {
namespace {

using dnnl::prop_kind;

class DenseLayer : public Layer {
 public:
  absl::Status BuildForward(NetBuilder& b) override {
    const DenseAttrs& a = b.node().dense;
    int64_t features = 1;
    for (size_t i = 1; i < b.InDims(0).size(); ++i) features *= b.InDims(0)[i];
    wdims_ = {a.units, features};
    if (!b.training() && b.batch() == 1 && GemvHandles(b)) return BuildGemv(b);
    src_ = b.InputFlat(0);
    const int folded = b.training() ? -1 : b.plan().folded_bn[b.node_index()];
    has_bias_ = a.bias || folded >= 0;
    const MemDesc bias_md = PlainDesc({a.units});
    dnnl::primitive_attr attr;
    if (!b.training()) {
      attr.set_post_ops(ActivationPostOps(b.graph(), b.plan().fused[b.node_index()]));
      if (UseMatmul(features, a.units)) return BuildMatmul(b, attr);
    }
    const prop_kind prop =
        b.training() ? prop_kind::forward_training : prop_kind::forward_inference;
    const MemDesc weights_md = WeightsDesc(b);
    auto desc = has_bias_ ? dnnl::inner_product_forward::desc(prop, src_.get_desc(), weights_md,
                                                              bias_md, AnyDesc(b.OutDims()))
                          : dnnl::inner_product_forward::desc(prop, src_.get_desc(), weights_md,
                                                              AnyDesc(b.OutDims()));
    fwd_pd_ = dnnl::inner_product_forward::primitive_desc(desc, attr, CpuEngine());
    LayerWeights w = LoadWeights(b, fwd_pd_.weights_desc(), bias_md, a.bias);
    weights_ = w.weights;
    b.SetOutput(fwd_pd_.dst_desc());
    if (b.training() && UseMatmul(features, a.units)) {
      BuildTrainingMatmul(b, w.bias);
      return absl::OkStatus();
    }
    Args args{{DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, b.Out().mem}};
    if (has_bias_) args[DNNL_ARG_BIAS] = w.bias;
    b.Forward(dnnl::inner_product_forward(fwd_pd_), std::move(args));
    return absl::OkStatus();
  }

  absl::Status BuildBackward(NetBuilder& b) override {
    const MemDesc src_md = src_.get_desc();
    const MemDesc bias_md = PlainDesc({b.node().dense.units});
    if (b.InputNeedsGrad(0)) {
      dnnl::inner_product_backward_data::desc desc(AnyDesc(src_md.dims()), WeightsDesc(b),
                                                   AnyDesc(b.OutDims()));
      dnnl::inner_product_backward_data::primitive_desc pd(desc, CpuEngine(), fwd_pd_);
      dnnl::memory diff_src = b.Alloc(pd.diff_src_desc());
      b.Backward(dnnl::inner_product_backward_data(pd),
                 {{DNNL_ARG_DIFF_DST, b.BackwardAs(b.OutDiff(), pd.diff_dst_desc())},
                  {DNNL_ARG_WEIGHTS, b.BackwardAs(weights_, pd.weights_desc())},
                  {DNNL_ARG_DIFF_SRC, diff_src}});
      b.AddInputGrad(0, b.BackwardAs(diff_src, PlainDesc(src_md.dims())));
    }
    auto desc = has_bias_ ? dnnl::inner_product_backward_weights::desc(
                                src_md, PlainDesc(wdims_), bias_md, AnyDesc(b.OutDims()))
                          : dnnl::inner_product_backward_weights::desc(src_md, PlainDesc(wdims_),
                                                                       AnyDesc(b.OutDims()));
    dnnl::inner_product_backward_weights::primitive_desc pd(desc, CpuEngine(), fwd_pd_);
    Args args{{DNNL_ARG_SRC, src_},
              {DNNL_ARG_DIFF_DST, b.BackwardAs(b.OutDiff(), pd.diff_dst_desc())},
              {DNNL_ARG_DIFF_WEIGHTS, b.GradMemory("weight", pd.diff_weights_desc())}};
    if (has_bias_) args[DNNL_ARG_DIFF_BIAS] = b.GradMemory("bias", pd.diff_bias_desc());
    b.Backward(dnnl::inner_product_backward_weights(pd), std::move(args));
    return absl::OkStatus();
  }

 private:
  // Training reads the weights where the store keeps them (plain, units x
  // features): oneDNN's blocked layout made a reorder of every dense
  // layer's weights in each step, after the optimizer's update, and its
  // faster forward did not make up for it. lenet-300-100, batch 64, 2
  // threads: fc1's reorder took 52 us of a 0.37 ms step; read plain, fc1's
  // forward takes 23 us longer and the step 0.33 ms (cnn-bn and
  // mobile-tiny: no change beyond noise, lenet5 about 3% faster).
  // Inference reorders once per load, so it keeps oneDNN's choice.
  MemDesc WeightsDesc(NetBuilder& b) const {
    return b.training() ? PlainDesc(wdims_) : AnyDesc(wdims_);
  }

  // A large weight matrix, in training or in inference at batch > 1: oneDNN 2.6's matmul
  // splits the reduction over the threads where its inner product does not
  // (measured at batch 1, before gemv.h took that case: 3136 -> 128 in 7-8
  // us instead of 17 on 2 threads, 1600 -> 200 in 7.4 instead of 13.8).
  // Below about 256 K weights the inner product is as fast or faster.
  static bool UseMatmul(int64_t features, int64_t units) {
    return features >= 1024 || features * units >= 256 * 1024;
  }

  // Training's forward as a matmul, on the store's plain W seen as W^T
  // (features x units, column-major); fwd_pd_ remains the backward's hint.
  // oneDNN 2.6's inner product ran this in gemm:jit at 34% of the FMA peak
  // (batch 64, 2 threads): cnn-bn's fc1 (3136 -> 128) 0.29 ms, against
  // 0.17-0.19 as a matmul; lenet5's (800 -> 500) 0.255 against 0.172. Below
  // UseMatmul's size the inner product was faster (lenet-300-100's fc1,
  // 784 -> 300: 0.118 ms against 0.133).
  void BuildTrainingMatmul(NetBuilder& b, const dnnl::memory& bias) {
    const int64_t features = wdims_[1], units = wdims_[0];
    const MemDesc wt_md({features, units}, dt::f32, {1, features});
    dnnl::matmul::primitive_desc pd = MatmulPd(wt_md, fwd_pd_.dst_desc(), {});
    ForwardMatmul(b, pd, b.ParamView(weights_, wt_md),
                  has_bias_ ? b.ParamView(bias, MatmulBiasDesc()) : dnnl::memory());
  }

  // y = x W^T + b as a matmul: its weights are W^T (features x units). The
  // store's W (units x features, plain) is reordered into the matmul's
  // layout seen with its axes swapped, so the bytes are W^T's.
  absl::Status BuildMatmul(NetBuilder& b, const dnnl::primitive_attr& attr) {
    dnnl::matmul::primitive_desc pd =
        MatmulPd(AnyDesc({wdims_[1], wdims_[0]}), AnyDesc(b.OutDims()), attr);
    LayerWeights w = LoadWeights(b, pd.weights_desc().permute_axes({1, 0}), MatmulBiasDesc(),
                                 b.node().dense.bias);
    b.SetOutput(pd.dst_desc());
    ForwardMatmul(b, pd, b.ParamView(w.weights, pd.weights_desc()), w.bias);
    return absl::OkStatus();
  }

  // The matmul of src_ by weights wt_md (features x units), with the bias
  // (MatmulBiasDesc) when the layer has one.
  dnnl::matmul::primitive_desc MatmulPd(const MemDesc& wt_md, const MemDesc& dst_md,
                                        const dnnl::primitive_attr& attr) const {
    auto desc = has_bias_ ? dnnl::matmul::desc(src_.get_desc(), wt_md, MatmulBiasDesc(), dst_md)
                          : dnnl::matmul::desc(src_.get_desc(), wt_md, dst_md);
    return dnnl::matmul::primitive_desc(desc, attr, CpuEngine());
  }
  MemDesc MatmulBiasDesc() const { return PlainDesc({1, wdims_[0]}); }

  void ForwardMatmul(NetBuilder& b, const dnnl::matmul::primitive_desc& pd,
                     const dnnl::memory& weights, const dnnl::memory& bias) {
    Args args{{DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, b.Out().mem}};
    if (has_bias_) args[DNNL_ARG_BIAS] = bias;
    b.Forward(dnnl::matmul(pd), std::move(args));
  }

  // Batch 1: our matrix-vector kernel (gemv.h), when it applies every
  // activation fused here.
  static bool GemvHandles(NetBuilder& b) {
    for (int v : b.plan().fused[b.node_index()])
      if (!GemvSupports(b.graph().nodes[v].op)) return false;
    return true;
  }

  absl::Status BuildGemv(NetBuilder& b) {
    const int64_t features = wdims_[1], units = wdims_[0];
    GemvShape shape{features, units, (units + 15) / 16 * 16};
    // W^T, its rows in the order the input's values lie in memory, `ld`
    // apart: a dense image in any plain layout (channels-last at batch 1)
    // is read where it is; otherwise the input is made plain first.
    const MemDesc& in = b.In(0).md;
    const dnnl::memory::dims d = in.dims();
    dnnl::memory x;
    MemDesc wt_md;
    if (d.size() == 4 && in.data.format_kind == dnnl_blocked &&
        in.data.format_desc.blocking.inner_nblks == 0 &&
        in.get_size() == sizeof(float) * static_cast<size_t>(features)) {
      const dnnl_dims_t& st = in.data.format_desc.blocking.strides;
      x = b.In(0).mem;
      wt_md = MemDesc({units, d[1], d[2], d[3]}, dt::f32,
                      {1, st[1] * shape.ld, st[2] * shape.ld, st[3] * shape.ld});
    } else {
      x = b.InputFlat(0);
      wt_md = MemDesc(wdims_, dt::f32, {1, shape.ld});
    }
    LayerWeights w = LoadWeights(b, wt_md, PlainDesc({units}), b.node().dense.bias);
    std::vector<GemvAct> acts;
    for (int v : b.plan().fused[b.node_index()])
      acts.push_back(GemvAct{b.graph().nodes[v].op, b.graph().nodes[v].alpha});
    const int parts = std::max(1, omp_get_max_threads());
    dnnl::memory partial = b.Alloc(PlainDesc({parts, shape.ld}));
    b.SetOutput(PlainDesc(b.OutDims()));
    dnnl::memory wt = w.weights, bias = w.bias, y = b.Out().mem;
    b.TeamForwardFn(
        [=] {
          GemvForward(shape, F(wt), F(x), bias ? F(bias) : nullptr, acts, F(partial), parts, F(y));
        },
        "gemv");
    return absl::OkStatus();
  }

  static float* F(const dnnl::memory& m) { return static_cast<float*>(m.get_data_handle()); }

  dnnl::memory::dims wdims_;
  bool has_bias_ = false;
  dnnl::inner_product_forward::primitive_desc fwd_pd_;
  dnnl::memory src_, weights_;
};

}  // namespace

std::unique_ptr<Layer> MakeDenseLayer() { return std::make_unique<DenseLayer>(); }

}  // namespace edgenas
