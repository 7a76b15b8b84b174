// What a morph is judged by: the parent's and the child's outputs on the same
// inputs, from the engine's inference net.
#ifndef EDGENAS_RUNTIME_MORPH_COMPARE_H_
#define EDGENAS_RUNTIME_MORPH_COMPARE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/exec/params.h"
#include "runtime/graph/graph.h"
#include "runtime/model_file/model_file.h"

namespace edgenas {

// The outputs of `graph` on `inputs` (samples of the graph's input shape,
// NCHW, one after another): samples x num_classes floats, run `batch` samples
// at a time by one inference net. A trailing softmax is left out, so these
// are the logits, where differences are not squashed. `params` must hold the
// graph's weights.
absl::StatusOr<std::vector<float>> LogitsOf(const Graph& graph, ParamStore* params,
                                            const std::vector<float>& inputs, int batch);

struct OutputDifference {
  double max_abs = 0;         // largest |parent - child| over every logit; inf for a NaN
  double max_parent_abs = 0;  // largest |parent| logit, for scale
  int64_t samples = 0;
  int64_t top_agree = 0;      // samples whose most probable class is the same
};

// Two models' logits (samples x classes each) compared.
OutputDifference CompareLogits(const std::vector<float>& parent, const std::vector<float>& child,
                               int classes);

// Both models on the same inputs. The models' input shapes and class counts
// must agree.
absl::StatusOr<OutputDifference> CompareOutputs(Model* parent, Model* child,
                                                const std::vector<float>& inputs, int batch);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_MORPH_COMPARE_H_
