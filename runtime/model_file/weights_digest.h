// A digest of a set of weights: names, dims and every value's bits. It keys
// results that depend on the weights a training started from.
#ifndef EDGENAS_RUNTIME_MODEL_FILE_WEIGHTS_DIGEST_H_
#define EDGENAS_RUNTIME_MODEL_FILE_WEIGHTS_DIGEST_H_

#include <string>

#include "runtime/exec/params.h"

namespace edgenas {

// 32 hex digits of SHA-256 over the tensors in name order. Equal for equal
// weights; a single changed bit changes it.
std::string WeightsDigest(const ParamStore& params);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_MODEL_FILE_WEIGHTS_DIGEST_H_
