// The activations our kernels fuse (act_kernel.h's BnAct), from their
// definitions in double, for tests that check a kernel against its
// definition. Test-only.
#ifndef EDGENAS_RUNTIME_TESTING_ACT_REFERENCE_H_
#define EDGENAS_RUNTIME_TESTING_ACT_REFERENCE_H_

#include <algorithm>

#include "runtime/exec/kernels/act_kernel.h"

namespace edgenas {
namespace testing {

inline double ReferenceAct(BnAct a, double z) {
  switch (a) {
    case BnAct::kNone:
      return z;
    case BnAct::kRelu:
      return std::max(z, 0.0);
    case BnAct::kRelu6:
      return std::min(std::max(z, 0.0), 6.0);
    case BnAct::kHardSwish:
      return z * std::min(std::max(z + 3, 0.0), 6.0) / 6;
    case BnAct::kHardSigmoid:
      return std::min(std::max(z + 3, 0.0), 6.0) / 6;
  }
  return 0;
}

}  // namespace testing
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_TESTING_ACT_REFERENCE_H_
