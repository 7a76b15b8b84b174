// Concatenation along channels. The gradient is cut back into pieces from a
// plain copy of the output gradient, since blocked layouts cannot be sliced
// at channel offsets that are not multiples of the block.
#include "runtime/exec/layers/layers.h"

namespace edgenas {
namespace {

class ConcatLayer : public Layer {
 public:
  absl::Status BuildForward(NetBuilder& b) override {
    std::vector<MemDesc> srcs;
    for (int i = 0; i < b.num_inputs(); ++i) srcs.push_back(b.In(i).md);
    dnnl::concat::primitive_desc pd(1, srcs, CpuEngine());
    b.SetOutput(pd.dst_desc());
    Args args{{DNNL_ARG_DST, b.Out().mem}};
    for (int i = 0; i < b.num_inputs(); ++i) args[DNNL_ARG_MULTIPLE_SRC + i] = b.In(i).mem;
    b.Forward(dnnl::concat(pd), std::move(args));
    return absl::OkStatus();
  }

  absl::Status BuildBackward(NetBuilder& b) override {
    const MemDesc plain_md = PlainDesc(b.OutDims());
    dnnl::memory plain = b.BackwardAs(b.OutDiff(), plain_md);
    int64_t offset = 0;
    for (int i = 0; i < b.num_inputs(); ++i) {
      const dnnl::memory::dims d = b.InDims(i);
      dnnl::memory::dims offsets(d.size(), 0);
      offsets[1] = offset;
      offset += d[1];
      if (!b.InputNeedsGrad(i)) continue;
      dnnl::memory piece(plain_md.submemory_desc(d, offsets), CpuEngine(), plain.get_data_handle());
      b.AddInputGrad(i, b.BackwardAs(piece, PlainDesc(d)));
    }
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<Layer> MakeConcatLayer() { return std::make_unique<ConcatLayer>(); }

}  // namespace edgenas
