// Elementwise sum of two or more values of one shape; its gradient flows to
// every input unchanged.
#include "runtime/exec/layers/layers.h"

namespace edgenas {
namespace {

class AddLayer : public Layer {
 public:
  absl::Status BuildForward(NetBuilder& b) override {
    const int k = b.num_inputs();
    const MemDesc md = b.In(0).md;
    // Every input in the first one's layout: oneDNN sums mixed layouts (say
    // the image in nchw plus a conv output in nChw16c) with a reference loop.
    std::vector<dnnl::memory> inputs;
    std::vector<MemDesc> srcs;
    for (int i = 0; i < k; ++i) {
      inputs.push_back(b.InputAs(i, md));
      srcs.push_back(md);
    }
    dnnl::sum::primitive_desc pd(md, std::vector<float>(k, 1.0f), srcs, CpuEngine());
    b.SetOutput(pd.dst_desc());
    Args args{{DNNL_ARG_DST, b.Out().mem}};
    for (int i = 0; i < k; ++i) args[DNNL_ARG_MULTIPLE_SRC + i] = inputs[i];
    b.Forward(dnnl::sum(pd), std::move(args));
    return absl::OkStatus();
  }

  absl::Status BuildBackward(NetBuilder& b) override {
    for (int i = 0; i < b.num_inputs(); ++i) b.AddInputGrad(i, b.OutDiff());
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<Layer> MakeAddLayer() { return std::make_unique<AddLayer>(); }

}  // namespace edgenas
