// Elementwise product a * b, where b has a's shape or is (C, 1, 1) and
// broadcasts over height and width (squeeze-and-excite). Gradients:
// da = dy * b; db = dy * a, summed over height and width when broadcast.
#include "runtime/exec/layers/layers.h"

namespace edgenas {
namespace {

using dnnl::algorithm;

class MultiplyLayer : public Layer {
 public:
  absl::Status BuildForward(NetBuilder& b) override {
    a_ = b.In(0).mem;
    b_ = b.In(1).mem;
    dnnl::binary::desc desc(algorithm::binary_mul, a_.get_desc(), b_.get_desc(), b.In(0).md);
    dnnl::binary::primitive_desc pd(desc, CpuEngine());
    b.SetOutput(pd.dst_desc());
    b.Forward(dnnl::binary(pd),
              {{DNNL_ARG_SRC_0, a_}, {DNNL_ARG_SRC_1, b_}, {DNNL_ARG_DST, b.Out().mem}});
    return absl::OkStatus();
  }

  absl::Status BuildBackward(NetBuilder& b) override {
    const dnnl::memory dy = b.OutDiff();
    if (b.InputNeedsGrad(0)) {
      dnnl::binary::desc desc(algorithm::binary_mul, dy.get_desc(), b_.get_desc(), a_.get_desc());
      dnnl::binary::primitive_desc pd(desc, CpuEngine());
      dnnl::memory da = b.Alloc(pd.dst_desc());
      b.Backward(dnnl::binary(pd),
                 {{DNNL_ARG_SRC_0, dy}, {DNNL_ARG_SRC_1, b_}, {DNNL_ARG_DST, da}});
      b.AddInputGrad(0, da);
    }
    if (b.InputNeedsGrad(1)) {
      const MemDesc bmd = b_.get_desc();
      const bool broadcast = bmd.dims() != a_.get_desc().dims();
      dnnl::binary::desc desc(algorithm::binary_mul, dy.get_desc(), a_.get_desc(),
                              broadcast ? a_.get_desc() : bmd);
      dnnl::binary::primitive_desc pd(desc, CpuEngine());
      dnnl::memory prod = b.Alloc(pd.dst_desc());
      b.Backward(dnnl::binary(pd),
                 {{DNNL_ARG_SRC_0, dy}, {DNNL_ARG_SRC_1, a_}, {DNNL_ARG_DST, prod}});
      if (broadcast) {
        // The sum over H and W as an average pool over the whole image, scaled
        // back by H * W: oneDNN's reduction on blocked layouts is a slow
        // reference loop, its pooling is jitted.
        const dnnl::memory::dims d = a_.get_desc().dims();
        dnnl::post_ops scale;
        scale.append_eltwise(1.0f, algorithm::eltwise_linear, static_cast<float>(d[2] * d[3]),
                             0.0f);
        dnnl::primitive_attr attr;
        attr.set_post_ops(scale);
        dnnl::pooling_forward::desc pdesc(
            dnnl::prop_kind::forward_inference, algorithm::pooling_avg_exclude_padding,
            prod.get_desc(), AnyDesc(bmd.dims()), {1, 1}, {d[2], d[3]}, {0, 0}, {0, 0});
        dnnl::pooling_forward::primitive_desc ppd(pdesc, attr, CpuEngine());
        dnnl::memory db = b.Alloc(ppd.dst_desc());
        b.Backward(dnnl::pooling_forward(ppd), {{DNNL_ARG_SRC, prod}, {DNNL_ARG_DST, db}});
        b.AddInputGrad(1, db);
      } else {
        b.AddInputGrad(1, prod);
      }
    }
    return absl::OkStatus();
  }

 private:
  dnnl::memory a_, b_;
};

}  // namespace

std::unique_ptr<Layer> MakeMultiplyLayer() { return std::make_unique<MultiplyLayer>(); }

}  // namespace edgenas
