// Max pool, average pool (padding excluded from the average) and global
// average pool, on oneDNN's pooling primitives; a global average pool over
// a channels-last image in inference at batch 1 (after our batch-1 convs) on
// a loop of our own, a step of the net's one team (parallel.h).
#include <omp.h>

#include <algorithm>

#include "runtime/exec/kernels/parallel.h"
#include "runtime/exec/kernels/vector_clones.h"
#include "runtime/exec/layers/layers.h"

namespace edgenas {
namespace {

using dnnl::algorithm;
using dnnl::prop_kind;

// y[c] = the mean of x[p][c] over `pixels` rows `ld` floats apart, for c
// in [0, channels).
EDGENAS_VECTOR_CLONES
void ChannelMeans(const float* x, int64_t pixels, int64_t ld, int64_t channels, float* y) {
  const float scale = 1.0f / static_cast<float>(pixels);
  for (int64_t c0 = 0; c0 < channels; c0 += 256) {
    const int64_t n = std::min<int64_t>(256, channels - c0);
    float sum[256] = {};
    for (int64_t p = 0; p < pixels; ++p) {
      const float* row = x + p * ld + c0;
#pragma omp simd
      for (int64_t c = 0; c < n; ++c) sum[c] += row[c];
    }
#pragma omp simd
    for (int64_t c = 0; c < n; ++c) y[c0 + c] = sum[c] * scale;
  }
}

class PoolLayer : public Layer {
 public:
  absl::Status BuildForward(NetBuilder& b) override {
    const Node& n = b.node();
    const dnnl::memory::dims in = b.InDims(0);
    if (n.op == OpKind::kGlobalAvgPool && !b.training() && b.batch() == 1 &&
        b.In(0).md == ChannelsLastDesc(in)) {
      b.SetOutput(PlainDesc(b.OutDims()));
      dnnl::memory x = b.In(0).mem, y = b.Out().mem;
      const int64_t pixels = in[2] * in[3], channels = in[1];
      b.TeamForwardFn(
          [=] {
            // By whole vectors of channels, as our 1x1 conv's threads wrote
            // them: each thread reads what it wrote.
            const int64_t vectors = (channels + 15) / 16;
            ParallelRun(static_cast<int>(std::min<int64_t>(omp_get_max_threads(), vectors)),
                        [&](int t, int n) {
                          const int64_t c0 = std::min(channels, vectors * t / n * 16);
                          const int64_t c1 = std::min(channels, vectors * (t + 1) / n * 16);
                          ChannelMeans(static_cast<const float*>(x.get_data_handle()) + c0, pixels,
                                       channels, c1 - c0,
                                       static_cast<float*>(y.get_data_handle()) + c0);
                        });
          },
          "channel_means");
      return absl::OkStatus();
    }
    if (n.op == OpKind::kGlobalAvgPool) {
      alg_ = algorithm::pooling_avg_exclude_padding;
      kernel_ = {in[2], in[3]};
      strides_ = {1, 1};
      pad_ = {0, 0};
    } else {
      alg_ = n.op == OpKind::kMaxPool ? algorithm::pooling_max
                                      : algorithm::pooling_avg_exclude_padding;
      kernel_ = {n.pool.kernel_h, n.pool.kernel_w};
      strides_ = {n.pool.stride_h, n.pool.stride_w};
      pad_ = {n.pool.pad_h, n.pool.pad_w};
    }
    const prop_kind prop =
        b.training() ? prop_kind::forward_training : prop_kind::forward_inference;
    dnnl::pooling_forward::desc desc(prop, alg_, b.In(0).md, AnyDesc(b.OutDims()), strides_,
                                     kernel_, pad_, pad_);
    fwd_pd_ = dnnl::pooling_forward::primitive_desc(desc, CpuEngine());
    b.SetOutput(fwd_pd_.dst_desc());
    Args args{{DNNL_ARG_SRC, b.In(0).mem}, {DNNL_ARG_DST, b.Out().mem}};
    if (b.training() && alg_ == algorithm::pooling_max) {
      workspace_ = b.Alloc(fwd_pd_.workspace_desc());
      args[DNNL_ARG_WORKSPACE] = workspace_;
    }
    b.Forward(dnnl::pooling_forward(fwd_pd_), std::move(args));
    return absl::OkStatus();
  }

  absl::Status BuildBackward(NetBuilder& b) override {
    if (!b.InputNeedsGrad(0)) return absl::OkStatus();
    if (b.node().op == OpKind::kGlobalAvgPool) return GlobalBackward(b);
    dnnl::pooling_backward::desc desc(alg_, AnyDesc(b.InDims(0)), b.Out().md, strides_, kernel_,
                                      pad_, pad_);
    dnnl::pooling_backward::primitive_desc pd(desc, CpuEngine(), fwd_pd_);
    dnnl::memory diff_src = b.Alloc(pd.diff_src_desc());
    Args args{{DNNL_ARG_DIFF_DST, b.BackwardAs(b.OutDiff(), pd.diff_dst_desc())},
              {DNNL_ARG_DIFF_SRC, diff_src}};
    if (workspace_) args[DNNL_ARG_WORKSPACE] = workspace_;
    b.Backward(dnnl::pooling_backward(pd), std::move(args));
    b.AddInputGrad(0, diff_src);
    return absl::OkStatus();
  }

 private:
  // dx = dy / (H * W), spread over every position: a broadcast add onto zeros
  // with a scale. oneDNN's pooling backward with a whole-image window runs a
  // slow reference loop (hundreds of times slower at 28x28).
  absl::Status GlobalBackward(NetBuilder& b) {
    const MemDesc& in = b.In(0).md;
    const dnnl::memory::dims d = b.InDims(0);
    zeros_ = b.Alloc(in);
    dnnl::primitive_attr attr;
    attr.set_scales(DNNL_ARG_SRC_1, 0, {1.0f / static_cast<float>(d[2] * d[3])});
    dnnl::binary::desc desc(algorithm::binary_add, in, b.Out().md, in);
    dnnl::binary::primitive_desc pd(desc, attr, CpuEngine());
    dnnl::memory diff_src = b.Alloc(pd.dst_desc());
    b.Backward(dnnl::binary(pd), {{DNNL_ARG_SRC_0, zeros_},
                                  {DNNL_ARG_SRC_1, b.BackwardAs(b.OutDiff(), b.Out().md)},
                                  {DNNL_ARG_DST, diff_src}});
    b.AddInputGrad(0, diff_src);
    return absl::OkStatus();
  }

  dnnl::memory zeros_;
  algorithm alg_ = algorithm::pooling_max;
  dnnl::memory::dims kernel_, strides_, pad_;
  dnnl::pooling_forward::primitive_desc fwd_pd_;
  dnnl::memory workspace_;
};

}  // namespace

std::unique_ptr<Layer> MakePoolLayer() { return std::make_unique<PoolLayer>(); }

}  // namespace edgenas
