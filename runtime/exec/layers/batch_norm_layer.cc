// Batch normalization: batch statistics and running averages in training,
// running statistics in inference (where it is usually folded away).
#include "runtime/exec/kernels/bn_act.h"
#include "runtime/exec/layers/layers.h"

namespace edgenas {
namespace {

using dnnl::normalization_flags;
using dnnl::prop_kind;

class BatchNormLayer : public Layer {
 public:
  absl::Status BuildForward(NetBuilder& b) override {
    const Node& n = b.node();
    const std::vector<int>& fused = b.plan().fused[b.node_index()];
    if (b.training() && !fused.empty() && b.graph().nodes[fused.back()].op == OpKind::kMaxPool)
      return BuildPoolForward(b);
    if (b.training() && !fused.empty() && BnActSupports(b.graph().nodes[fused[0]].op, &act_))
      return BuildFusedForward(b);
    const MemDesc& data = b.In(0).md;
    const int64_t channels = data.dims()[1];
    const MemDesc vec = PlainDesc({channels});
    flags_ = normalization_flags::use_scale | normalization_flags::use_shift;
    if (!b.training()) flags_ = flags_ | normalization_flags::use_global_stats;
    if (!b.plan().fused[b.node_index()].empty())
      flags_ = flags_ | normalization_flags::fuse_norm_relu;
    const prop_kind prop =
        b.training() ? prop_kind::forward_training : prop_kind::forward_inference;
    dnnl::batch_normalization_forward::desc desc(prop, data, n.bn_epsilon, flags_);
    fwd_pd_ = dnnl::batch_normalization_forward::primitive_desc(desc, CpuEngine());
    b.SetOutput(fwd_pd_.dst_desc());
    src_ = b.In(0).mem;
    scale_ = b.ParamMemory("gamma", vec);
    shift_ = b.ParamMemory("beta", vec);
    if (b.training()) {
      mean_ = b.Alloc(fwd_pd_.mean_desc());
      var_ = b.Alloc(fwd_pd_.variance_desc());
    } else {
      mean_ = b.ParamMemory("running_mean", vec);
      var_ = b.ParamMemory("running_var", vec);
    }
    Args args{{DNNL_ARG_SRC, src_},     {DNNL_ARG_DST, b.Out().mem}, {DNNL_ARG_SCALE, scale_},
              {DNNL_ARG_SHIFT, shift_}, {DNNL_ARG_MEAN, mean_},      {DNNL_ARG_VARIANCE, var_}};
    if (b.training() &&
        (flags_ & normalization_flags::fuse_norm_relu) != normalization_flags::none) {
      workspace_ = b.Alloc(fwd_pd_.workspace_desc());
      args[DNNL_ARG_WORKSPACE] = workspace_;
    }
    b.Forward(dnnl::batch_normalization_forward(fwd_pd_), std::move(args));
    if (b.training()) UpdateRunningStats(b, data.dims(), mean_, var_);
    return absl::OkStatus();
  }

  absl::Status BuildBackward(NetBuilder& b) override {
    if (pooled_) return BuildPoolBackward(b);
    if (fused_act_) return BuildFusedBackward(b);
    const MemDesc& data = b.In(0).md;
    const MemDesc vec = PlainDesc({data.dims()[1]});
    dnnl::batch_normalization_backward::desc desc(prop_kind::backward, b.Out().md, data,
                                                  b.node().bn_epsilon, flags_);
    dnnl::batch_normalization_backward::primitive_desc pd(desc, CpuEngine(), fwd_pd_);
    dnnl::memory diff_src = b.Alloc(pd.diff_src_desc());
    Args args{{DNNL_ARG_SRC, src_},
              {DNNL_ARG_MEAN, mean_},
              {DNNL_ARG_VARIANCE, var_},
              {DNNL_ARG_SCALE, scale_},
              {DNNL_ARG_SHIFT, shift_},
              {DNNL_ARG_DIFF_DST, b.BackwardAs(b.OutDiff(), pd.diff_dst_desc())},
              {DNNL_ARG_DIFF_SRC, diff_src},
              {DNNL_ARG_DIFF_SCALE, b.GradMemory("gamma", vec)},
              {DNNL_ARG_DIFF_SHIFT, b.GradMemory("beta", vec)}};
    if (workspace_) args[DNNL_ARG_WORKSPACE] = workspace_;
    b.Backward(dnnl::batch_normalization_backward(pd), std::move(args));
    b.AddInputGrad(0, diff_src);
    return absl::OkStatus();
  }

 private:
  // Training with a ReLU6, hard-swish or hard-sigmoid after it: our kernel
  // (bn_act.h) in nChw16c instead of oneDNN's batch norm plus an eltwise.
  absl::Status BuildFusedForward(NetBuilder& b) {
    fused_act_ = true;
    const dnnl::memory::dims d = b.In(0).md.dims();
    const MemDesc blocked = Blocked16Desc(d);
    shape_ = BnActShape{d[0], d[1], d[2] * d[3]};
    src_ = b.InputAs(0, blocked);
    b.SetOutput(blocked);
    OwnKernelVectors(b, d[1]);
    const BnActShape shape = shape_;
    const BnAct act = act_;
    const float eps = b.node().bn_epsilon;
    dnnl::memory x = src_, y = b.Out().mem, g = scale_, be = shift_, m = mean_, v = var_,
                 r = inv_std_;
    b.ForwardFn([=] { BnActForward(shape, act, eps, F(x), F(g), F(be), F(y), F(m), F(v), F(r)); },
                "bn_act");
    UpdateRunningStats(b, d, mean_, var_);
    return absl::OkStatus();
  }

  absl::Status BuildFusedBackward(NetBuilder& b) {
    const MemDesc blocked = src_.get_desc();
    const MemDesc vec = PlainDesc({shape_.channels});
    dnnl::memory dy = b.BackwardAs(b.OutDiff(), blocked);
    dnnl::memory dx = b.Alloc(blocked);
    dnnl::memory dg = b.GradMemory("gamma", vec), db = b.GradMemory("beta", vec);
    const BnActShape shape = shape_;
    const BnAct act = act_;
    dnnl::memory x = src_, g = scale_, be = shift_, m = mean_, r = inv_std_;
    b.BackwardFn(
        [=] {
          BnActBackward(shape, act, F(x), F(dy), F(g), F(be), F(m), F(r), F(dx), F(dg), F(db));
        },
        "bn_act");
    b.AddInputGrad(0, dx);
    return absl::OkStatus();
  }

  // Training with a max pool after it (and maybe an activation between):
  // our kernel (BnActPoolForward); the node's value is the pooled tensor,
  // which the activation and the pool alias.
  absl::Status BuildPoolForward(NetBuilder& b) {
    pooled_ = true;
    const std::vector<int>& fused = b.plan().fused[b.node_index()];
    act_ = BnAct::kNone;
    if (fused.size() == 2 && !BnActPoolSupports(b.graph().nodes[fused[0]].op, &act_))
      return absl::InternalError("batch norm + max pool: the activation between is not supported");
    const PoolAttrs& pool = b.graph().nodes[fused.back()].pool;
    const dnnl::memory::dims d = b.In(0).md.dims();
    pool_shape_ = BnPoolShape{d[0], d[1], d[2], d[3], pool.kernel_h, pool.kernel_w};
    const MemDesc pooled = Blocked16Desc(b.Dims(b.info().nodes[fused.back()].shape));
    src_ = b.InputAs(0, Blocked16Desc(d));
    b.SetOutput(pooled);
    xhat_max_ = b.Alloc(pooled);
    argmax_ = b.Alloc(pooled);
    OwnKernelVectors(b, d[1]);
    const BnPoolShape shape = pool_shape_;
    const BnAct act = act_;
    const float eps = b.node().bn_epsilon;
    dnnl::memory x = src_, y = b.Out().mem, xh = xhat_max_, am = argmax_, g = scale_, be = shift_,
                 m = mean_, v = var_, r = inv_std_;
    b.ForwardFn(
        [=] {
          BnActPoolForward(shape, act, eps, F(x), F(g), F(be), F(y), F(xh), F(am), F(m), F(v),
                           F(r));
        },
        "bn_pool");
    UpdateRunningStats(b, d, mean_, var_);
    return absl::OkStatus();
  }

  absl::Status BuildPoolBackward(NetBuilder& b) {
    const MemDesc pooled = b.Out().md;
    const MemDesc vec = PlainDesc({pool_shape_.channels});
    dnnl::memory dy = b.BackwardAs(b.OutDiff(), pooled);
    dnnl::memory scratch = b.Alloc(pooled);
    dnnl::memory dx = b.Alloc(src_.get_desc());
    dnnl::memory dg = b.GradMemory("gamma", vec), db = b.GradMemory("beta", vec);
    const BnPoolShape shape = pool_shape_;
    const BnAct act = act_;
    dnnl::memory x = src_, xh = xhat_max_, am = argmax_, g = scale_, be = shift_, m = mean_,
                 r = inv_std_;
    b.BackwardFn(
        [=] {
          BnActPoolBackward(shape, act, F(x), F(dy), F(xh), F(am), F(g), F(be), F(m), F(r),
                            F(scratch), F(dx), F(dg), F(db));
        },
        "bn_pool");
    b.AddInputGrad(0, dx);
    return absl::OkStatus();
  }

  // Our kernels' per-channel vectors, plain [C]: gamma and beta from the
  // store, the batch mean, variance and 1 / std they write.
  void OwnKernelVectors(NetBuilder& b, int64_t channels) {
    const MemDesc vec = PlainDesc({channels});
    scale_ = b.ParamMemory("gamma", vec);
    shift_ = b.ParamMemory("beta", vec);
    mean_ = b.Alloc(vec);
    var_ = b.Alloc(vec);
    inv_std_ = b.Alloc(vec);
  }

  static float* F(const dnnl::memory& m) { return static_cast<float*>(m.get_data_handle()); }

  // Running statistics as PyTorch keeps them: the variance unbiased.
  static void UpdateRunningStats(NetBuilder& b, const dnnl::memory::dims& d, dnnl::memory mean,
                                 dnnl::memory var) {
    ParamTensor* run_mean = b.Param("running_mean");
    ParamTensor* run_var = b.Param("running_var");
    const int64_t channels = d[1];
    int64_t count = d[0];
    for (size_t i = 2; i < d.size(); ++i) count *= d[i];
    const float m = b.node().bn_momentum;
    const float unbias = count > 1 ? static_cast<float>(count) / (count - 1) : 1.0f;
    ParamStore* store = b.store();
    b.ForwardFn([=] {
      const float* bm = static_cast<const float*>(mean.get_data_handle());
      const float* bv = static_cast<const float*>(var.get_data_handle());
      for (int64_t c = 0; c < channels; ++c) {
        run_mean->values[c] = (1 - m) * run_mean->values[c] + m * bm[c];
        run_var->values[c] = (1 - m) * run_var->values[c] + m * bv[c] * unbias;
      }
      store->Touch();
    });
  }

  bool fused_act_ = false;
  bool pooled_ = false;
  BnAct act_ = BnAct::kRelu6;
  BnActShape shape_;
  BnPoolShape pool_shape_;
  dnnl::memory inv_std_, xhat_max_, argmax_;
  normalization_flags flags_ = normalization_flags::none;
  dnnl::batch_normalization_forward::primitive_desc fwd_pd_;
  dnnl::memory src_, scale_, shift_, mean_, var_, workspace_;
};

}  // namespace

std::unique_ptr<Layer> MakeBatchNormLayer() { return std::make_unique<BatchNormLayer>(); }

}  // namespace edgenas
