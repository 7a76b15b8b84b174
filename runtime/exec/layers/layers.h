// Factories of the layers, one per op family; layer_registry.cc maps op
// kinds to them.
#ifndef EDGENAS_RUNTIME_EXEC_LAYERS_LAYERS_H_
#define EDGENAS_RUNTIME_EXEC_LAYERS_LAYERS_H_

#include <memory>

#include "runtime/exec/layer.h"

namespace edgenas {

std::unique_ptr<Layer> MakeConvLayer();
std::unique_ptr<Layer> MakeDenseLayer();
std::unique_ptr<Layer> MakePoolLayer();
std::unique_ptr<Layer> MakeBatchNormLayer();
std::unique_ptr<Layer> MakeActivationLayer();
std::unique_ptr<Layer> MakeAddLayer();
std::unique_ptr<Layer> MakeMultiplyLayer();
std::unique_ptr<Layer> MakeConcatLayer();
std::unique_ptr<Layer> MakeShuffleLayer();
std::unique_ptr<Layer> MakeFlattenLayer();
std::unique_ptr<Layer> MakeDropoutLayer();
std::unique_ptr<Layer> MakeSoftmaxLayer();

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_LAYERS_LAYERS_H_
