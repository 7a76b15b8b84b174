// The activations our own kernels apply inside their vector loops, as
// templates so that each kernel is compiled once per activation.
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_ACT_KERNEL_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_ACT_KERNEL_H_

#include <algorithm>

#include "runtime/graph/graph.h"

namespace edgenas {

// In batch norm (bn_act.h), kNone and kRelu only with a max pool after it:
// without one, oneDNN's batch norm does as well.
enum class BnAct { kNone, kRelu, kRelu6, kHardSwish, kHardSigmoid };

// The BnAct of an activation op, or false for the others (elu, sigmoid,
// tanh), which our kernels leave to oneDNN.
inline bool ActKernelFor(OpKind op, BnAct* act) {
  switch (op) {
    case OpKind::kRelu:
      *act = BnAct::kRelu;
      return true;
    case OpKind::kRelu6:
      *act = BnAct::kRelu6;
      return true;
    case OpKind::kHardSwish:
      *act = BnAct::kHardSwish;
      return true;
    case OpKind::kHardSigmoid:
      *act = BnAct::kHardSigmoid;
      return true;
    default:
      return false;
  }
}

template <BnAct A>
inline float Act(float z) {
  if constexpr (A == BnAct::kNone) {
    return z;
  } else if constexpr (A == BnAct::kRelu) {
    return std::max(z, 0.0f);
  } else if constexpr (A == BnAct::kRelu6) {
    return std::min(std::max(z, 0.0f), 6.0f);
  } else if constexpr (A == BnAct::kHardSwish) {
    return z * std::min(std::max(z + 3.0f, 0.0f), 6.0f) * (1.0f / 6);
  } else {
    return std::min(std::max(z + 3.0f, 0.0f), 6.0f) * (1.0f / 6);
  }
}

// d act / dz (0 at the kinks, as the reference interpreter takes it).
template <BnAct A>
inline float ActGrad(float z) {
  if constexpr (A == BnAct::kNone) {
    return 1.0f;
  } else if constexpr (A == BnAct::kRelu) {
    return z > 0.0f ? 1.0f : 0.0f;
  } else if constexpr (A == BnAct::kRelu6) {
    return (z > 0.0f && z < 6.0f) ? 1.0f : 0.0f;
  } else if constexpr (A == BnAct::kHardSwish) {
    return z >= 3.0f ? 1.0f : (z > -3.0f ? (2.0f * z + 3.0f) * (1.0f / 6) : 0.0f);
  } else {
    return (z > -3.0f && z < 3.0f) ? (1.0f / 6) : 0.0f;
  }
}

// `switch (act) { EDGENAS_BN_ACT_CASES(FnT, args...) }` calls FnT<act>(args...).
#define EDGENAS_BN_ACT_CASES(FN, ...)          \
  case BnAct::kNone:                           \
    return FN<BnAct::kNone>(__VA_ARGS__);      \
  case BnAct::kRelu:                           \
    return FN<BnAct::kRelu>(__VA_ARGS__);      \
  case BnAct::kRelu6:                          \
    return FN<BnAct::kRelu6>(__VA_ARGS__);     \
  case BnAct::kHardSwish:                      \
    return FN<BnAct::kHardSwish>(__VA_ARGS__); \
  case BnAct::kHardSigmoid:                    \
    return FN<BnAct::kHardSigmoid>(__VA_ARGS__);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_ACT_KERNEL_H_
