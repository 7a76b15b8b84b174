#include "search/morphism/architecture_distance.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/graph/analyze.h"

namespace edgenas {
namespace morphism {
namespace {

// The layer a node is, or nullopt for the nodes that are not layers here.
std::optional<LayerDescriptor> AsLayer(const Node& node, const GraphInfo& info, int index) {
  switch (node.op) {
    case OpKind::kConv: {
      const ConvAttrs& c = node.conv;
      const int in = info.nodes[index].inputs[0] == kGraphInput
                         ? info.input_shape.channels
                         : info.nodes[info.nodes[index].inputs[0]].shape.channels;
      LayerKind kind = c.groups == 1 ? LayerKind::kConv
                       : (c.groups == in && c.out_channels == in) ? LayerKind::kDepthwiseConv
                                                                  : LayerKind::kGroupedConv;
      return LayerDescriptor{kind, c.out_channels, std::max(c.kernel_h, c.kernel_w),
                             std::max(c.stride_h, c.stride_w)};
    }
    case OpKind::kDense:
      return LayerDescriptor{LayerKind::kDense, node.dense.units, 0, 1};
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
      return LayerDescriptor{node.op == OpKind::kMaxPool ? LayerKind::kMaxPool : LayerKind::kAvgPool,
                             0, std::max(node.pool.kernel_h, node.pool.kernel_w),
                             std::max(node.pool.stride_h, node.pool.stride_w)};
    case OpKind::kGlobalAvgPool:
      return LayerDescriptor{LayerKind::kGlobalPool, 0, 0, 1};
    case OpKind::kBatchNorm:
    case OpKind::kRelu:
    case OpKind::kRelu6:
    case OpKind::kElu:
    case OpKind::kSigmoid:
    case OpKind::kHardSigmoid:
    case OpKind::kTanh:
    case OpKind::kHardSwish:
    case OpKind::kAdd:
    case OpKind::kMultiply:
    case OpKind::kConcat:
    case OpKind::kChannelShuffle:
    case OpKind::kFlatten:
    case OpKind::kDropout:
    case OpKind::kSoftmax:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<MergeKind> AsMerge(OpKind op) {
  switch (op) {
    case OpKind::kAdd:
      return MergeKind::kAdd;
    case OpKind::kConcat:
      return MergeKind::kConcat;
    case OpKind::kMultiply:
      return MergeKind::kMultiply;
    case OpKind::kConv:
    case OpKind::kDense:
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
    case OpKind::kGlobalAvgPool:
    case OpKind::kBatchNorm:
    case OpKind::kRelu:
    case OpKind::kRelu6:
    case OpKind::kElu:
    case OpKind::kSigmoid:
    case OpKind::kHardSigmoid:
    case OpKind::kTanh:
    case OpKind::kHardSwish:
    case OpKind::kChannelShuffle:
    case OpKind::kFlatten:
    case OpKind::kDropout:
    case OpKind::kSoftmax:
      return std::nullopt;
  }
  return std::nullopt;
}

double RelativeDifference(double a, double b) {
  const double m = std::max(a, b);
  return m == 0 ? 0 : std::abs(a - b) / m;
}

}  // namespace

absl::StatusOr<ArchitectureDescriptor> Describe(const Graph& graph) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  if (!info.ok()) return info.status();
  ArchitectureDescriptor out;
  std::vector<int> depth(graph.nodes.size(), 0);
  auto depth_of = [&](int value) { return value == kGraphInput ? 0 : depth[value]; };
  for (int i : info->order) {
    const Node& node = graph.nodes[i];
    const std::vector<int>& inputs = info->nodes[i].inputs;
    int deepest = 0;
    for (int in : inputs) deepest = std::max(deepest, depth_of(in));
    if (std::optional<MergeKind> merge = AsMerge(node.op)) {
      bool main_taken = false;
      for (int in : inputs) {
        if (!main_taken && depth_of(in) == deepest) {
          main_taken = true;
          continue;
        }
        out.skips.push_back({depth_of(in), deepest, *merge});
      }
    }
    std::optional<LayerDescriptor> layer = AsLayer(node, *info, i);
    depth[i] = deepest + (layer ? 1 : 0);
    if (layer) out.layers.push_back(*layer);
  }
  return out;
}

double LayerDistance(const LayerDescriptor& a, const LayerDescriptor& b) {
  if (a.kind != b.kind) return 1;
  return (RelativeDifference(a.width, b.width) + RelativeDifference(a.kernel, b.kernel) +
          RelativeDifference(a.stride, b.stride)) /
         3;
}

double LayersDistance(const std::vector<LayerDescriptor>& a, const std::vector<LayerDescriptor>& b) {
  // f[i][j]: the distance between the first i layers of a and the first j of b.
  std::vector<std::vector<double>> f(a.size() + 1, std::vector<double>(b.size() + 1, 0));
  for (size_t i = 0; i <= a.size(); ++i) f[i][0] = static_cast<double>(i);
  for (size_t j = 0; j <= b.size(); ++j) f[0][j] = static_cast<double>(j);
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j)
      f[i][j] = std::min({f[i - 1][j] + 1, f[i][j - 1] + 1,
                          f[i - 1][j - 1] + LayerDistance(a[i - 1], b[j - 1])});
  return f[a.size()][b.size()];
}

double SkipDistance(const SkipDescriptor& a, const SkipDescriptor& b) {
  if (a.kind != b.kind) return 1;
  const int len_a = a.to - a.from, len_b = b.to - b.from;
  const double denominator = std::max(a.from, b.from) + std::max(len_a, len_b);
  if (denominator == 0) return 0;
  return (std::abs(a.from - b.from) + std::abs(len_a - len_b)) / denominator;
}

std::vector<int> MinCostAssignment(const std::vector<std::vector<double>>& cost) {
  // The Hungarian method with potentials u (rows) and v (columns), one row
  // added at a time along a shortest augmenting path: O(rows^2 * columns).
  const int n = static_cast<int>(cost.size());
  if (n == 0) return {};
  const int m = static_cast<int>(cost[0].size());
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0), v(m + 1, 0);
  std::vector<int> row_of(m + 1, 0), way(m + 1, 0);  // 1-based rows; column 0 is the root
  for (int i = 1; i <= n; ++i) {
    row_of[0] = i;
    int j0 = 0;
    std::vector<double> min_to(m + 1, kInf);
    std::vector<bool> used(m + 1, false);
    do {
      used[j0] = true;
      const int i0 = row_of[j0];
      double delta = kInf;
      int j1 = 0;
      for (int j = 1; j <= m; ++j) {
        if (used[j]) continue;
        const double reduced = cost[i0 - 1][j - 1] - u[i0] - v[j];
        if (reduced < min_to[j]) min_to[j] = reduced, way[j] = j0;
        if (min_to[j] < delta) delta = min_to[j], j1 = j;
      }
      for (int j = 0; j <= m; ++j) {
        if (used[j]) {
          u[row_of[j]] += delta;
          v[j] -= delta;
        } else {
          min_to[j] -= delta;
        }
      }
      j0 = j1;
    } while (row_of[j0] != 0);
    do {  // flip the path
      const int j1 = way[j0];
      row_of[j0] = row_of[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int> column(n, -1);
  for (int j = 1; j <= m; ++j)
    if (row_of[j] != 0) column[row_of[j] - 1] = j - 1;
  return column;
}

double SkipsDistance(const std::vector<SkipDescriptor>& a, const std::vector<SkipDescriptor>& b) {
  const std::vector<SkipDescriptor>& rows = a.size() <= b.size() ? a : b;
  const std::vector<SkipDescriptor>& columns = a.size() <= b.size() ? b : a;
  double total = static_cast<double>(columns.size() - rows.size());
  if (rows.empty()) return total;
  std::vector<std::vector<double>> cost(rows.size(), std::vector<double>(columns.size()));
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < columns.size(); ++j) cost[i][j] = SkipDistance(rows[i], columns[j]);
  const std::vector<int> match = MinCostAssignment(cost);
  for (size_t i = 0; i < rows.size(); ++i) total += cost[i][match[i]];
  return total;
}

double EditDistance(const ArchitectureDescriptor& a, const ArchitectureDescriptor& b,
                    double lambda) {
  return LayersDistance(a.layers, b.layers) + lambda * SkipsDistance(a.skips, b.skips);
}

}  // namespace morphism
}  // namespace edgenas
