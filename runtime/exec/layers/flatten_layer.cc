// Flatten: the input in plain NCHW order viewed as (N, C*H*W). A reorder
// only when the input is in a blocked layout.
#include "runtime/exec/layers/layers.h"

namespace edgenas {
namespace {

class FlattenLayer : public Layer {
 public:
  absl::Status BuildForward(NetBuilder& b) override {
    dnnl::memory flat = b.InputFlat(0);
    b.Out().md = flat.get_desc();
    b.Out().mem = flat;
    return absl::OkStatus();
  }

  absl::Status BuildBackward(NetBuilder& b) override {
    b.AddInputGrad(0, b.OutDiff());  // viewed back as NCHW by AddInputGrad
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<Layer> MakeFlattenLayer() { return std::make_unique<FlattenLayer>(); }

}  // namespace edgenas
