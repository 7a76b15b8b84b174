// A standalone activation: a chain of oneDNN eltwise primitives (one for
// most activations, two for hard-sigmoid), back-propagated in reverse.
#include "runtime/exec/layers/activation.h"
#include "runtime/exec/layers/layers.h"

namespace edgenas {
namespace {

using dnnl::prop_kind;

class ActivationLayer : public Layer {
 public:
  absl::Status BuildForward(NetBuilder& b) override {
    steps_ = ActivationSteps(b.node().op, b.node().alpha);
    const prop_kind prop =
        b.training() ? prop_kind::forward_training : prop_kind::forward_inference;
    dnnl::memory x = b.In(0).mem;
    for (size_t i = 0; i < steps_.size(); ++i) {
      const EltwiseStep& s = steps_[i];
      dnnl::eltwise_forward::desc desc(prop, s.alg, x.get_desc(), s.alpha, s.beta);
      dnnl::eltwise_forward::primitive_desc pd(desc, CpuEngine());
      dnnl::memory y;
      if (i + 1 == steps_.size()) {
        b.SetOutput(pd.dst_desc());
        y = b.Out().mem;
      } else {
        y = b.Alloc(pd.dst_desc());
      }
      b.Forward(dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, y}});
      srcs_.push_back(x);
      pds_.push_back(pd);
      x = y;
    }
    return absl::OkStatus();
  }

  absl::Status BuildBackward(NetBuilder& b) override {
    if (!b.InputNeedsGrad(0)) return absl::OkStatus();
    dnnl::memory diff = b.OutDiff();
    for (int i = static_cast<int>(steps_.size()) - 1; i >= 0; --i) {
      const EltwiseStep& s = steps_[i];
      const MemDesc md = srcs_[i].get_desc();
      dnnl::eltwise_backward::desc desc(s.alg, md, md, s.alpha, s.beta);
      dnnl::eltwise_backward::primitive_desc pd(desc, CpuEngine(), pds_[i]);
      dnnl::memory diff_src = b.Alloc(pd.diff_src_desc());
      b.Backward(dnnl::eltwise_backward(pd), {{DNNL_ARG_SRC, srcs_[i]},
                                              {DNNL_ARG_DIFF_DST, b.BackwardAs(diff, md)},
                                              {DNNL_ARG_DIFF_SRC, diff_src}});
      diff = diff_src;
    }
    b.AddInputGrad(0, diff);
    return absl::OkStatus();
  }

 private:
  std::vector<EltwiseStep> steps_;
  std::vector<dnnl::memory> srcs_;
  std::vector<dnnl::eltwise_forward::primitive_desc> pds_;
};

}  // namespace

std::unique_ptr<Layer> MakeActivationLayer() { return std::make_unique<ActivationLayer>(); }

}  // namespace edgenas
