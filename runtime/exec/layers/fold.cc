#include "runtime/exec/layers/fold.h"

#include <cmath>

namespace edgenas {

LayerWeights LoadWeights(NetBuilder& b, const MemDesc& weights_md, const MemDesc& bias_md,
                         bool has_bias) {
  const int bn = b.plan().folded_bn.empty() ? -1 : b.plan().folded_bn[b.node_index()];
  LayerWeights out;
  if (bn < 0) {
    out.weights = b.ParamMemory("weight", weights_md);
    if (has_bias) out.bias = b.ParamMemory("bias", bias_md);
    return out;
  }
  const Node& bn_node = b.graph().nodes[bn];
  ParamStore* store = b.store();
  const ParamTensor* w = b.Param("weight");
  const ParamTensor* bias = has_bias ? b.Param("bias") : nullptr;
  const ParamTensor* gamma = store->Find(ParamKey(bn_node.name, "gamma"));
  const ParamTensor* beta = store->Find(ParamKey(bn_node.name, "beta"));
  const ParamTensor* mean = store->Find(ParamKey(bn_node.name, "running_mean"));
  const ParamTensor* var = store->Find(ParamKey(bn_node.name, "running_var"));
  const float eps = bn_node.bn_epsilon;
  const int64_t outs = w->dims[0];
  const int64_t per_out = w->size() / outs;
  auto scale = [=](int64_t o) { return gamma->values[o] / std::sqrt(var->values[o] + eps); };
  out.weights = b.DerivedParamMemory(w->dims, weights_md, [=](float* dst) {
    for (int64_t o = 0; o < outs; ++o) {
      const float s = scale(o);
      const float* src = w->values.data() + o * per_out;
      for (int64_t i = 0; i < per_out; ++i) dst[o * per_out + i] = src[i] * s;
    }
  });
  out.bias = b.DerivedParamMemory({outs}, bias_md, [=](float* dst) {
    for (int64_t o = 0; o < outs; ++o) {
      const float b0 = bias ? bias->values[o] : 0.0f;
      dst[o] = (b0 - mean->values[o]) * scale(o) + beta->values[o];
    }
  });
  return out;
}

}  // namespace edgenas
