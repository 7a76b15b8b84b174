#include "runtime/exec/layers/layers.h"

namespace edgenas {

// An explicit table: static self-registration would be dropped by the
// linker from a static library.
std::unique_ptr<Layer> MakeLayer(OpKind op) {
  switch (op) {
    case OpKind::kConv:
      return MakeConvLayer();
    case OpKind::kDense:
      return MakeDenseLayer();
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
    case OpKind::kGlobalAvgPool:
      return MakePoolLayer();
    case OpKind::kBatchNorm:
      return MakeBatchNormLayer();
    case OpKind::kRelu:
    case OpKind::kRelu6:
    case OpKind::kElu:
    case OpKind::kSigmoid:
    case OpKind::kHardSigmoid:
    case OpKind::kTanh:
    case OpKind::kHardSwish:
      return MakeActivationLayer();
    case OpKind::kAdd:
      return MakeAddLayer();
    case OpKind::kMultiply:
      return MakeMultiplyLayer();
    case OpKind::kConcat:
      return MakeConcatLayer();
    case OpKind::kChannelShuffle:
      return MakeShuffleLayer();
    case OpKind::kFlatten:
      return MakeFlattenLayer();
    case OpKind::kDropout:
      return MakeDropoutLayer();
    case OpKind::kSoftmax:
      return MakeSoftmaxLayer();
  }
  return nullptr;
}

}  // namespace edgenas
