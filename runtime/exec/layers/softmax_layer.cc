// Softmax over the features of a flat value. A trailing softmax is not
// trained through: the loss owns it (see CompiledNet::Logits).
#include "runtime/exec/layers/layers.h"

namespace edgenas {
namespace {

using dnnl::prop_kind;

class SoftmaxLayer : public Layer {
 public:
  absl::Status BuildForward(NetBuilder& b) override {
    const prop_kind prop =
        b.training() ? prop_kind::forward_training : prop_kind::forward_inference;
    dnnl::softmax_forward::desc desc(prop, b.In(0).md, 1);
    fwd_pd_ = dnnl::softmax_forward::primitive_desc(desc, CpuEngine());
    b.SetOutput(fwd_pd_.dst_desc());
    b.Forward(dnnl::softmax_forward(fwd_pd_),
              {{DNNL_ARG_SRC, b.In(0).mem}, {DNNL_ARG_DST, b.Out().mem}});
    return absl::OkStatus();
  }

  absl::Status BuildBackward(NetBuilder& b) override {
    if (!b.InputNeedsGrad(0)) return absl::OkStatus();
    dnnl::softmax_backward::desc desc(b.Out().md, b.Out().md, 1);
    dnnl::softmax_backward::primitive_desc pd(desc, CpuEngine(), fwd_pd_);
    dnnl::memory diff_src = b.Alloc(pd.diff_src_desc());
    b.Backward(dnnl::softmax_backward(pd),
               {{DNNL_ARG_DST, b.Out().mem},
                {DNNL_ARG_DIFF_DST, b.BackwardAs(b.OutDiff(), pd.diff_dst_desc())},
                {DNNL_ARG_DIFF_SRC, diff_src}});
    b.AddInputGrad(0, diff_src);
    return absl::OkStatus();
  }

 private:
  dnnl::softmax_forward::primitive_desc fwd_pd_;
};

}  // namespace

std::unique_ptr<Layer> MakeSoftmaxLayer() { return std::make_unique<SoftmaxLayer>(); }

}  // namespace edgenas
