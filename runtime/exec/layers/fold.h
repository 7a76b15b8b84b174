// Batch norm folded into the conv or dense before it, for inference:
//   W'[o] = W[o] * s[o],  b'[o] = (b[o] - mean[o]) * s[o] + beta[o],
//   s = gamma / sqrt(running_var + epsilon).
#ifndef EDGENAS_RUNTIME_EXEC_LAYERS_FOLD_H_
#define EDGENAS_RUNTIME_EXEC_LAYERS_FOLD_H_

#include "runtime/exec/layer.h"

namespace edgenas {

struct LayerWeights {
  dnnl::memory weights;
  dnnl::memory bias;  // empty when the layer has no bias and nothing is folded
};

// The current node's weights (and bias) in the given layouts: straight from
// the store, or with the planned batch norm folded in (then a bias always
// exists).
LayerWeights LoadWeights(NetBuilder& b, const MemDesc& weights_md, const MemDesc& bias_md,
                         bool has_bias);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_LAYERS_FOLD_H_
