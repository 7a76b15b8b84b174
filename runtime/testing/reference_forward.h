// A naive scalar interpreter of the graph IR, in double precision, written
// straight from the definitions of the ops. Tests compare the oneDNN
// executor (fused, folded, blocked layouts) against it. Test-only.
#ifndef EDGENAS_RUNTIME_TESTING_REFERENCE_FORWARD_H_
#define EDGENAS_RUNTIME_TESTING_REFERENCE_FORWARD_H_

#include <vector>

#include "runtime/exec/params.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph.h"

namespace edgenas {
namespace testing {

// Logits (batch x classes) of `graph` on `input` (batch x C x H x W, NCHW).
// training: batch norm uses batch statistics (biased variance), softmax at
// the output is skipped (the trainer's logits); otherwise running
// statistics and the graph as written. Dropout is the identity.
std::vector<double> ReferenceForward(const Graph& graph, const GraphInfo& info,
                                     const ParamStore& params, const std::vector<float>& input,
                                     int batch, bool training);

}  // namespace testing
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_TESTING_REFERENCE_FORWARD_H_
