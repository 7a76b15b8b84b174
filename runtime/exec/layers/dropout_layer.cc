// Inverted dropout: in training each element is kept with probability
// 1 - rate and scaled by 1 / (1 - rate); inference passes values through.
// The mask covers the whole physical buffer, so any layout works (padding
// stays zero: zero times the mask is zero).
#include <random>

#include "runtime/exec/layers/layers.h"

namespace edgenas {
namespace {

class DropoutLayer : public Layer {
 public:
  absl::Status BuildForward(NetBuilder& b) override {
    const MemDesc md = b.In(0).md;
    if (!b.training()) {
      b.Out().md = md;
      b.Out().mem = b.In(0).mem;
      return absl::OkStatus();
    }
    b.SetOutput(md);
    const size_t count = FloatCount(md);
    mask_ = std::make_shared<std::vector<float>>(count);
    const float keep = 1.0f - b.node().rate;
    std::shared_ptr<std::vector<float>> mask = mask_;
    dnnl::memory x = b.In(0).mem, y = b.Out().mem;
    auto state = std::make_shared<uint64_t>(b.rng()() | 1);
    b.ForwardFn(
        [=] {
          // xorshift64*: cheap and seeded from the net's generator.
          uint64_t s = *state;
          const float scale = 1.0f / keep;
          const uint32_t threshold = static_cast<uint32_t>(keep * 4294967295.0);
          const float* in = static_cast<const float*>(x.get_data_handle());
          float* out = static_cast<float*>(y.get_data_handle());
          float* m = mask->data();
          for (size_t i = 0; i < count; ++i) {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            uint32_t r = static_cast<uint32_t>((s * 2685821657736338717ULL) >> 32);
            m[i] = r < threshold ? scale : 0.0f;
            out[i] = in[i] * m[i];
          }
          *state = s;
        },
        "dropout");
    return absl::OkStatus();
  }

  absl::Status BuildBackward(NetBuilder& b) override {
    if (!b.InputNeedsGrad(0)) return absl::OkStatus();
    const MemDesc md = b.Out().md;
    dnnl::memory dy = b.OutDiff(), dx = b.Alloc(md);
    std::shared_ptr<std::vector<float>> mask = mask_;
    b.BackwardFn(
        [=] {
          const float* g = static_cast<const float*>(dy.get_data_handle());
          float* out = static_cast<float*>(dx.get_data_handle());
          const float* m = mask->data();
          for (size_t i = 0; i < mask->size(); ++i) out[i] = g[i] * m[i];
        },
        "dropout");
    b.AddInputGrad(0, dx);
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<std::vector<float>> mask_;
};

}  // namespace

std::unique_ptr<Layer> MakeDropoutLayer() { return std::make_unique<DropoutLayer>(); }

}  // namespace edgenas
