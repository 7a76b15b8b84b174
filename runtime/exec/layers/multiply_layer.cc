// Elementwise product a * b, where b has a's shape or is (C, 1, 1) and
// broadcasts over height and width (squeeze-and-excite). Gradients:
// da = dy * b; db = dy * a, summed over height and width when broadcast.
#include "runtime/exec/kernels/vector_clones.h"
#include "runtime/exec/layers/layers.h"

namespace edgenas {
namespace {

using dnnl::algorithm;

// y[n][p][c] = x[n][p][c] * s[n][c] for NHWC x: the squeeze-and-excite
// scale at small batch, where oneDNN 2.6's broadcast binary on NHWC costs
// 5 us for an 8 x 28 x 28 map (a pass over 25 KB).
EDGENAS_VECTOR_CLONES
void ScaleChannelsLast(int64_t batch, int64_t pixels, int64_t channels, const float* x,
                       const float* s, float* y) {
#pragma omp parallel for schedule(static) if (batch * pixels * channels >= (1 << 16))
  for (int64_t r = 0; r < batch * pixels; ++r) {
    const float* sc = s + (r / pixels) * channels;
    const float* xr = x + r * channels;
    float* yr = y + r * channels;
#pragma omp simd
    for (int64_t c = 0; c < channels; ++c) yr[c] = xr[c] * sc[c];
  }
}

class MultiplyLayer : public Layer {
 public:
  absl::Status BuildForward(NetBuilder& b) override {
    a_ = b.In(0).mem;
    b_ = b.In(1).mem;
    const dnnl::memory::dims ad = b.InDims(0), bd = b.InDims(1);
    if (ad.size() == 4 && bd != ad && b.In(0).md == ChannelsLastDesc(ad) &&
        b.In(1).md == ChannelsLastDesc(bd)) {
      b.SetOutput(b.In(0).md);
      dnnl::memory x = a_, sc = b_, y = b.Out().mem;
      b.ForwardFn(
          [=] {
            ScaleChannelsLast(ad[0], ad[2] * ad[3], ad[1],
                              static_cast<const float*>(x.get_data_handle()),
                              static_cast<const float*>(sc.get_data_handle()),
                              static_cast<float*>(y.get_data_handle()));
          },
          "scale_rows");
      return absl::OkStatus();
    }
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
