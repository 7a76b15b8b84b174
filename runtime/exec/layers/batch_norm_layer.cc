// Batch normalization: batch statistics and running averages in training,
// running statistics in inference (where it is usually folded away).
#include "runtime/exec/layers/layers.h"

namespace edgenas {
namespace {

using dnnl::normalization_flags;
using dnnl::prop_kind;

class BatchNormLayer : public Layer {
 public:
  absl::Status BuildForward(NetBuilder& b) override {
    const Node& n = b.node();
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
    if (b.training()) {
      // Running statistics as PyTorch keeps them: the variance unbiased.
      ParamTensor* run_mean = b.Param("running_mean");
      ParamTensor* run_var = b.Param("running_var");
      const dnnl::memory::dims d = data.dims();
      int64_t count = d[0];
      for (size_t i = 2; i < d.size(); ++i) count *= d[i];
      const float m = n.bn_momentum;
      const float unbias = count > 1 ? static_cast<float>(count) / (count - 1) : 1.0f;
      dnnl::memory mean = mean_, var = var_;
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
    return absl::OkStatus();
  }

  absl::Status BuildBackward(NetBuilder& b) override {
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
  normalization_flags flags_ = normalization_flags::none;
  dnnl::batch_normalization_forward::primitive_desc fwd_pd_;
  dnnl::memory src_, scale_, shift_, mean_, var_, workspace_;
};

}  // namespace

std::unique_ptr<Layer> MakeBatchNormLayer() { return std::make_unique<BatchNormLayer>(); }

}  // namespace edgenas
