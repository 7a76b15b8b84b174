// ENAS's macro search space (Pham et al., ICML 2018, section 2.3; the
// reference code's general_child): a chain of L layers, each choosing one of
// six operations and which earlier layers feed it through skip connections.
// Every child is a Graph whose node names depend only on the choices that
// made them, so two children making the same choice at a layer read the same
// weights from one ParamStore: the supergraph's shared weights.
//
// Layer i (0-based) reads layer i-1's output (the stem's for i = 0) and runs
//   conv 3x3 / conv 5x5:      1x1 conv + BN + relu, then kxk conv + BN + relu
//   sep-conv 3x3 / 5x5:       1x1 conv + BN + relu, then depthwise kxk +
//                             pointwise 1x1 + BN + relu
//   max pool / avg pool 3x3:  1x1 conv + BN + relu, then the pool (stride 1)
// then adds the outputs of the earlier layers whose skip bit is set, and a
// batch norm shared by every child ("l<i>/bn"). After the layers listed in
// `reduce_after` every output is halved in height and width and the filters
// double; an earlier layer that a later one reads is brought down by a
// strided 1x1 conv + BN (ENAS's factorized reduction concatenates two 1x1
// convs of the input and of the input shifted by a pixel; the graph IR has
// no shift). The head: global average pool and a dense classifier.
//
// Decisions, in the order ENAS's controller makes them: for each layer i its
// operation (6 choices), then one skip bit (2 choices) for each layer j < i.
// In the runtime, not in search/: a trainer that trains the supergraph
// builds the children it is sent from their decisions.
#ifndef EDGENAS_RUNTIME_SUPERNET_MACRO_SPACE_H_
#define EDGENAS_RUNTIME_SUPERNET_MACRO_SPACE_H_

#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/exec/params.h"
#include "runtime/graph/graph.h"

namespace edgenas {
namespace supernet {

enum class MacroOp { kConv3, kConv5, kSepConv3, kSepConv5, kMaxPool, kAvgPool };
inline constexpr int kMacroOps = 6;
const char* MacroOpName(MacroOp op);  // "conv3", "sep5", "max", ...

struct MacroSpaceConfig {
  Shape3 input{1, 28, 28};
  int num_classes = 10;
  int layers = 12;
  int filters = 24;  // of the first layers; doubled after each reduction
  // Layers after which the resolution halves; empty: ENAS's two, after
  // layers L/3 - 1 and 2L/3 - 1.
  std::vector<int> reduce_after;

  absl::Status Validate() const;
  std::vector<int> Reductions() const;  // reduce_after or the default
};

// choices[k] of decision k.
std::vector<int> MacroDecisionChoices(const MacroSpaceConfig& config);

// The child that `decisions` choose; InvalidArgument for a decision out of
// range or of the wrong count.
absl::StatusOr<Graph> MacroChild(const MacroSpaceConfig& config, const std::vector<int>& decisions);

// The shared weights: every tensor of every child, initialised as InitParams
// initialises a graph's (He for convs and denses).
absl::StatusOr<ParamStore> MacroSharedParams(const MacroSpaceConfig& config, uint64_t seed);

}  // namespace supernet
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_SUPERNET_MACRO_SPACE_H_
