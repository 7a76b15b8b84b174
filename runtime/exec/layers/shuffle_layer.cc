// Channel shuffle (ShuffleNet): channels viewed as (groups, C / groups),
// transposed, flattened, on oneDNN's shuffle primitive.
#include "runtime/exec/layers/layers.h"

namespace edgenas {
namespace {

using dnnl::prop_kind;

class ShuffleLayer : public Layer {
 public:
  absl::Status BuildForward(NetBuilder& b) override {
    const int64_t channels = b.InDims(0)[1];
    // oneDNN's group_size is the length of the rows being transposed: the
    // view (C / group_size, group_size) becomes (group_size, C / group_size).
    // ShuffleNet's view is (groups, C / groups), so group_size = C / groups.
    group_size_ = static_cast<int>(channels / b.node().shuffle_groups);
    const prop_kind prop =
        b.training() ? prop_kind::forward_training : prop_kind::forward_inference;
    dnnl::shuffle_forward::desc desc(prop, b.In(0).md, 1, group_size_);
    fwd_pd_ = dnnl::shuffle_forward::primitive_desc(desc, CpuEngine());
    b.SetOutput(fwd_pd_.dst_desc());
    b.Forward(dnnl::shuffle_forward(fwd_pd_),
              {{DNNL_ARG_SRC, b.In(0).mem}, {DNNL_ARG_DST, b.Out().mem}});
    return absl::OkStatus();
  }

  absl::Status BuildBackward(NetBuilder& b) override {
    if (!b.InputNeedsGrad(0)) return absl::OkStatus();
    dnnl::shuffle_backward::desc desc(b.Out().md, 1, group_size_);
    dnnl::shuffle_backward::primitive_desc pd(desc, CpuEngine(), fwd_pd_);
    dnnl::memory diff_src = b.Alloc(pd.diff_src_desc());
    b.Backward(dnnl::shuffle_backward(pd),
               {{DNNL_ARG_DIFF_DST, b.BackwardAs(b.OutDiff(), pd.diff_dst_desc())},
                {DNNL_ARG_DIFF_SRC, diff_src}});
    b.AddInputGrad(0, diff_src);
    return absl::OkStatus();
  }

 private:
  int group_size_ = 1;
  dnnl::shuffle_forward::primitive_desc fwd_pd_;
};

}  // namespace

std::unique_ptr<Layer> MakeShuffleLayer() { return std::make_unique<ShuffleLayer>(); }

}  // namespace edgenas
