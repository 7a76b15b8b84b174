// Validation, shape inference and cost of a model graph.
//
// AnalyzeGraph is total: it looks at every node before anything is
// allocated and refuses a bad graph with an error that names the node and
// the field (cycles, dangling inputs, shape mismatches, sizes past limits).
#ifndef EDGENAS_RUNTIME_GRAPH_ANALYZE_H_
#define EDGENAS_RUNTIME_GRAPH_ANALYZE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph/graph.h"

namespace edgenas {

// The shape of one value per sample: (channels, height, width), or a flat
// feature vector of `channels` elements (height = width = 1, flat = true).
struct ValueShape {
  int channels = 0, height = 1, width = 1;
  bool flat = false;
  int64_t elements() const { return int64_t{channels} * height * width; }
  bool operator==(const ValueShape& o) const {
    return channels == o.channels && height == o.height && width == o.width && flat == o.flat;
  }
  std::string ToString() const;
};

struct GraphLimits {
  int max_nodes = 4096;
  int max_inputs_per_node = 64;
  int max_channels = 8192;
  int max_spatial = 4096;  // input height and width
  int max_kernel = 31;
  int max_stride = 16;
  int max_dilation = 16;
  int max_classes = 100000;
  int max_name_length = 128;
  int64_t max_activation_bytes = int64_t{1} << 30;  // per sample, all values, fp32
  int64_t max_weight_bytes = int64_t{1} << 30;      // fp32
};

struct NodeInfo {
  ValueShape shape;              // of the node's output
  std::vector<int> inputs;       // node indices; kGraphInput for the graph's input
  std::vector<int> consumers;    // node indices that read this node
  int64_t params = 0;            // trainable parameters (BN running stats excluded)
  int64_t flops = 0;             // multiply-adds per sample (conv and dense)
};

inline constexpr int kGraphInput = -1;

struct GraphInfo {
  std::vector<NodeInfo> nodes;   // indexed like Graph::nodes
  std::vector<int> order;        // a topological order of node indices
  std::vector<int> input_consumers;
  ValueShape input_shape;
  int output = -1;
  int64_t params = 0;
  int64_t flops = 0;
  int64_t weight_bytes = 0;          // params + BN running statistics, fp32
  int64_t activation_bytes = 0;      // every value per sample, fp32: what training keeps
  int64_t peak_activation_bytes = 0; // live values at once in `order`: what inference needs
};

absl::StatusOr<GraphInfo> AnalyzeGraph(const Graph& graph, const GraphLimits& limits = GraphLimits());

// Shapes of a graph under construction: every check of AnalyzeGraph except
// those about the output (which node, dead branches, class count). Builders
// use it to learn the channels of the node they extend.
absl::StatusOr<GraphInfo> InferShapes(const Graph& graph, const GraphLimits& limits = GraphLimits());

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_GRAPH_ANALYZE_H_
