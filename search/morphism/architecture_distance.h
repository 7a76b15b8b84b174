// Auto-Keras's distance between two architectures (Jin, Song and Hu, KDD
// 2019, section 3.1): the edit distance between their layer sequences plus
// the distance between their skip connections, matched one to one.
//
// An architecture is described by its weighted and pooling layers in
// topological order (batch norms and activations follow them and carry no
// choice of their own) and by its skip connections: every input of an add,
// concat or multiply other than the deepest one, from the layer position it
// leaves to the position where it joins.
#ifndef EDGENAS_SEARCH_MORPHISM_ARCHITECTURE_DISTANCE_H_
#define EDGENAS_SEARCH_MORPHISM_ARCHITECTURE_DISTANCE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph/graph.h"

namespace edgenas {
namespace morphism {

enum class LayerKind { kConv, kDepthwiseConv, kGroupedConv, kDense, kMaxPool, kAvgPool, kGlobalPool };

struct LayerDescriptor {
  LayerKind kind;
  int width = 0;   // output channels or units; 0 for pools
  int kernel = 0;  // the larger side; 0 for dense and global pooling
  int stride = 1;
  bool operator==(const LayerDescriptor& o) const {
    return kind == o.kind && width == o.width && kernel == o.kernel && stride == o.stride;
  }
};

enum class MergeKind { kAdd, kConcat, kMultiply };

struct SkipDescriptor {
  // Positions in the layer list: the number of layers on the longest path
  // before the value (0 for the graph input).
  int from = 0;
  int to = 0;
  MergeKind kind = MergeKind::kAdd;
  bool operator==(const SkipDescriptor& o) const {
    return from == o.from && to == o.to && kind == o.kind;
  }
};

struct ArchitectureDescriptor {
  std::vector<LayerDescriptor> layers;
  std::vector<SkipDescriptor> skips;
};

// `graph` must pass AnalyzeGraph.
absl::StatusOr<ArchitectureDescriptor> Describe(const Graph& graph);

// 1 between layers of different kinds; otherwise the mean over width,
// kernel and stride of |a - b| / max(a, b) (0 where both are 0). In [0, 1].
double LayerDistance(const LayerDescriptor& a, const LayerDescriptor& b);
// Levenshtein distance with insertion and deletion 1 and substitution
// LayerDistance.
double LayersDistance(const std::vector<LayerDescriptor>& a, const std::vector<LayerDescriptor>& b);

// 1 between connections of different kinds; otherwise
// (|from_a - from_b| + |len_a - len_b|) / (max(from) + max(len)), len = to - from.
double SkipDistance(const SkipDescriptor& a, const SkipDescriptor& b);
// The cheapest one-to-one matching of the two lists under SkipDistance
// (Hungarian method), plus 1 for each connection left unmatched.
double SkipsDistance(const std::vector<SkipDescriptor>& a, const std::vector<SkipDescriptor>& b);

// LayersDistance + lambda * SkipsDistance; Auto-Keras's lambda is 1.
double EditDistance(const ArchitectureDescriptor& a, const ArchitectureDescriptor& b,
                    double lambda = 1.0);

// The minimum-cost assignment of rows to columns of `cost` (rows <= columns),
// as the column of each row. Exposed for its tests.
std::vector<int> MinCostAssignment(const std::vector<std::vector<double>>& cost);

}  // namespace morphism
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_MORPHISM_ARCHITECTURE_DISTANCE_H_
