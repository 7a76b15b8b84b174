#include "runtime/graph/analyze.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>
#include <tuple>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

absl::Status NodeError(const Node& node, absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("node '", node.name, "' (", OpName(node.op), "): ", field, ": ", what));
}

bool ValidName(std::string_view name, int max_length) {
  if (name.empty() || static_cast<int>(name.size()) > max_length) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == '/' || c == ':';
    if (!ok) return false;
  }
  return true;
}

// Output extent of a sliding window, or 0 when the window does not fit.
// (The early return matters: division truncates toward zero, so with a
// stride above 1 a window one too large would still come out as 1.)
int64_t WindowOut(int64_t in, int kernel, int stride, int pad, int dilation) {
  int64_t span = int64_t{dilation} * (kernel - 1) + 1;
  if (in + 2 * int64_t{pad} < span) return 0;
  return (in + 2 * int64_t{pad} - span) / stride + 1;
}

absl::Status CheckRange(const Node& node, absl::string_view field, int64_t v, int64_t lo,
                        int64_t hi) {
  if (v < lo || v > hi) {
    return NodeError(node, field, absl::StrCat(v, " is outside [", lo, ", ", hi, "]"));
  }
  return absl::OkStatus();
}

class ShapeInference {
 public:
  ShapeInference(const GraphLimits& limits) : limits_(limits) {}

  // Fills info->shape, params and flops of `node` from its input shapes.
  absl::Status Infer(const Node& node, const std::vector<ValueShape>& in, NodeInfo* info) {
    switch (node.op) {
      case OpKind::kConv:
        return Conv(node, in, info);
      case OpKind::kDense:
        return Dense(node, in, info);
      case OpKind::kMaxPool:
      case OpKind::kAvgPool:
        return Pool(node, in, info);
      case OpKind::kGlobalAvgPool:
        if (auto s = Arity(node, in, 1, 1); !s.ok()) return s;
        if (auto s = Spatial(node, in[0]); !s.ok()) return s;
        info->shape = ValueShape{in[0].channels, 1, 1, false};
        return absl::OkStatus();
      case OpKind::kBatchNorm:
        if (auto s = Arity(node, in, 1, 1); !s.ok()) return s;
        if (!(node.bn_epsilon > 0 && node.bn_epsilon < 1))
          return NodeError(node, "epsilon", "must be in (0, 1)");
        if (!(node.bn_momentum > 0 && node.bn_momentum <= 1))
          return NodeError(node, "momentum", "must be in (0, 1]");
        info->shape = in[0];
        info->params = 2 * int64_t{in[0].channels};
        return absl::OkStatus();
      case OpKind::kRelu:
      case OpKind::kRelu6:
      case OpKind::kSigmoid:
      case OpKind::kHardSigmoid:
      case OpKind::kTanh:
      case OpKind::kHardSwish:
        if (auto s = Arity(node, in, 1, 1); !s.ok()) return s;
        info->shape = in[0];
        return absl::OkStatus();
      case OpKind::kElu:
        if (auto s = Arity(node, in, 1, 1); !s.ok()) return s;
        if (!(node.alpha > 0 && node.alpha <= 100))
          return NodeError(node, "alpha", "must be in (0, 100]");
        info->shape = in[0];
        return absl::OkStatus();
      case OpKind::kDropout:
        if (auto s = Arity(node, in, 1, 1); !s.ok()) return s;
        if (!(node.rate >= 0 && node.rate < 1)) return NodeError(node, "rate", "must be in [0, 1)");
        info->shape = in[0];
        return absl::OkStatus();
      case OpKind::kFlatten:
        if (auto s = Arity(node, in, 1, 1); !s.ok()) return s;
        // Checked before the cast to int, which could wrap.
        if (in[0].elements() > limits_.max_channels)
          return NodeError(node, "output",
                           absl::StrCat(in[0].elements(), " features exceed the channel limit ",
                                        limits_.max_channels));
        info->shape = ValueShape{static_cast<int>(in[0].elements()), 1, 1, true};
        return absl::OkStatus();
      case OpKind::kSoftmax:
        if (auto s = Arity(node, in, 1, 1); !s.ok()) return s;
        if (!in[0].flat) return NodeError(node, "inputs", "softmax takes a flat input (flatten or dense first)");
        info->shape = in[0];
        return absl::OkStatus();
      case OpKind::kChannelShuffle:
        if (auto s = Arity(node, in, 1, 1); !s.ok()) return s;
        if (auto s = Spatial(node, in[0]); !s.ok()) return s;
        if (node.shuffle_groups < 1 || in[0].channels % node.shuffle_groups != 0)
          return NodeError(node, "groups",
                           absl::StrCat(node.shuffle_groups, " does not divide ", in[0].channels,
                                        " channels"));
        info->shape = in[0];
        return absl::OkStatus();
      case OpKind::kAdd:
        if (auto s = Arity(node, in, 2, limits_.max_inputs_per_node); !s.ok()) return s;
        for (size_t i = 1; i < in.size(); ++i) {
          if (!(in[i] == in[0]))
            return NodeError(node, "inputs",
                             absl::StrCat("shapes differ: ", in[0].ToString(), " and ",
                                          in[i].ToString(), " (input ", i, ")"));
        }
        info->shape = in[0];
        return absl::OkStatus();
      case OpKind::kMultiply:
        if (auto s = Arity(node, in, 2, 2); !s.ok()) return s;
        if (!(in[1] == in[0]) &&
            !(in[1].channels == in[0].channels && in[1].height == 1 && in[1].width == 1 &&
              !in[0].flat && !in[1].flat))
          return NodeError(node, "inputs",
                           absl::StrCat("second input ", in[1].ToString(),
                                        " must equal the first ", in[0].ToString(),
                                        " or be (C, 1, 1) to broadcast over H and W"));
        info->shape = in[0];
        return absl::OkStatus();
      case OpKind::kConcat: {
        if (auto s = Arity(node, in, 2, limits_.max_inputs_per_node); !s.ok()) return s;
        int64_t channels = 0;
        for (size_t i = 0; i < in.size(); ++i) {
          if (in[i].height != in[0].height || in[i].width != in[0].width ||
              in[i].flat != in[0].flat)
            return NodeError(node, "inputs",
                             absl::StrCat("concat needs equal height and width: ",
                                          in[0].ToString(), " and ", in[i].ToString()));
          channels += in[i].channels;
        }
        if (channels > limits_.max_channels)
          return NodeError(node, "inputs", absl::StrCat(channels, " channels exceed the limit ",
                                                        limits_.max_channels));
        info->shape = in[0];
        info->shape.channels = static_cast<int>(channels);
        return absl::OkStatus();
      }
    }
    return NodeError(node, "op", "unknown op");
  }

 private:
  absl::Status Arity(const Node& node, const std::vector<ValueShape>& in, size_t lo, size_t hi) {
    if (in.size() < lo || in.size() > hi) {
      return NodeError(node, "inputs",
                       lo == hi ? absl::StrCat("takes ", lo, " input(s), got ", in.size())
                                : absl::StrCat("takes ", lo, " to ", hi, " inputs, got ", in.size()));
    }
    return absl::OkStatus();
  }

  absl::Status Spatial(const Node& node, const ValueShape& s) {
    if (s.flat) return NodeError(node, "inputs", "needs a (C, H, W) input, got a flat one");
    return absl::OkStatus();
  }

  absl::Status Conv(const Node& node, const std::vector<ValueShape>& in, NodeInfo* info) {
    if (auto s = Arity(node, in, 1, 1); !s.ok()) return s;
    if (auto s = Spatial(node, in[0]); !s.ok()) return s;
    const ConvAttrs& a = node.conv;
    for (auto [field, v, lo, hi] : {std::tuple{"out_channels", a.out_channels, 1, limits_.max_channels},
                                    {"kernel_h", a.kernel_h, 1, limits_.max_kernel},
                                    {"kernel_w", a.kernel_w, 1, limits_.max_kernel},
                                    {"stride_h", a.stride_h, 1, limits_.max_stride},
                                    {"stride_w", a.stride_w, 1, limits_.max_stride},
                                    {"dilation_h", a.dilation_h, 1, limits_.max_dilation},
                                    {"dilation_w", a.dilation_w, 1, limits_.max_dilation},
                                    {"groups", a.groups, 1, limits_.max_channels}}) {
      if (auto s = CheckRange(node, field, v, lo, hi); !s.ok()) return s;
    }
    int span_h = a.dilation_h * (a.kernel_h - 1) + 1, span_w = a.dilation_w * (a.kernel_w - 1) + 1;
    if (auto s = CheckRange(node, "pad_h", a.pad_h, 0, span_h - 1); !s.ok()) return s;
    if (auto s = CheckRange(node, "pad_w", a.pad_w, 0, span_w - 1); !s.ok()) return s;
    const int cin = in[0].channels;
    if (cin % a.groups != 0 || a.out_channels % a.groups != 0)
      return NodeError(node, "groups",
                       absl::StrCat(a.groups, " must divide input channels ", cin,
                                    " and out_channels ", a.out_channels));
    int64_t ho = WindowOut(in[0].height, a.kernel_h, a.stride_h, a.pad_h, a.dilation_h);
    int64_t wo = WindowOut(in[0].width, a.kernel_w, a.stride_w, a.pad_w, a.dilation_w);
    if (ho < 1 || wo < 1)
      return NodeError(node, "kernel",
                       absl::StrCat("window ", span_h, "x", span_w, " does not fit input ",
                                    in[0].ToString()));
    info->shape = ValueShape{a.out_channels, static_cast<int>(ho), static_cast<int>(wo), false};
    int64_t per_out = int64_t{cin / a.groups} * a.kernel_h * a.kernel_w;
    info->params = int64_t{a.out_channels} * per_out + (a.bias ? a.out_channels : 0);
    info->flops = ho * wo * a.out_channels * per_out;
    return absl::OkStatus();
  }

  absl::Status Dense(const Node& node, const std::vector<ValueShape>& in, NodeInfo* info) {
    if (auto s = Arity(node, in, 1, 1); !s.ok()) return s;
    if (auto s = CheckRange(node, "units", node.dense.units, 1, limits_.max_channels); !s.ok())
      return s;
    info->shape = ValueShape{node.dense.units, 1, 1, true};
    info->params = in[0].elements() * node.dense.units + (node.dense.bias ? node.dense.units : 0);
    info->flops = in[0].elements() * node.dense.units;
    return absl::OkStatus();
  }

  absl::Status Pool(const Node& node, const std::vector<ValueShape>& in, NodeInfo* info) {
    if (auto s = Arity(node, in, 1, 1); !s.ok()) return s;
    if (auto s = Spatial(node, in[0]); !s.ok()) return s;
    const PoolAttrs& a = node.pool;
    for (auto [field, v, lo, hi] : {std::tuple{"kernel_h", a.kernel_h, 1, limits_.max_kernel},
                                    {"kernel_w", a.kernel_w, 1, limits_.max_kernel},
                                    {"stride_h", a.stride_h, 1, limits_.max_stride},
                                    {"stride_w", a.stride_w, 1, limits_.max_stride},
                                    {"pad_h", a.pad_h, 0, (a.kernel_h - 1) / 2},
                                    {"pad_w", a.pad_w, 0, (a.kernel_w - 1) / 2}}) {
      if (auto s = CheckRange(node, field, v, lo, hi); !s.ok()) return s;
    }
    int64_t ho = WindowOut(in[0].height, a.kernel_h, a.stride_h, a.pad_h, 1);
    int64_t wo = WindowOut(in[0].width, a.kernel_w, a.stride_w, a.pad_w, 1);
    if (ho < 1 || wo < 1)
      return NodeError(node, "kernel",
                       absl::StrCat("window ", a.kernel_h, "x", a.kernel_w,
                                    " does not fit input ", in[0].ToString()));
    info->shape = ValueShape{in[0].channels, static_cast<int>(ho), static_cast<int>(wo), false};
    return absl::OkStatus();
  }

  const GraphLimits& limits_;
};

absl::Status CheckHeader(const Graph& g, const GraphLimits& limits, bool whole) {
  const Shape3& in = g.input;
  if (in.channels < 1 || in.channels > limits.max_channels)
    return absl::InvalidArgumentError(absl::StrCat("graph: input.channels: ", in.channels,
                                                   " is outside [1, ", limits.max_channels, "]"));
  if (in.height < 1 || in.height > limits.max_spatial)
    return absl::InvalidArgumentError(absl::StrCat("graph: input.height: ", in.height,
                                                   " is outside [1, ", limits.max_spatial, "]"));
  if (in.width < 1 || in.width > limits.max_spatial)
    return absl::InvalidArgumentError(absl::StrCat("graph: input.width: ", in.width,
                                                   " is outside [1, ", limits.max_spatial, "]"));
  const int64_t input_bytes = 4 * int64_t{in.channels} * in.height * in.width;
  if (input_bytes > limits.max_activation_bytes)
    return absl::InvalidArgumentError(absl::StrCat("graph: input: ", input_bytes,
                                                   " bytes per sample exceed the limit ",
                                                   limits.max_activation_bytes));
  if (whole && (g.num_classes < 2 || g.num_classes > limits.max_classes))
    return absl::InvalidArgumentError(absl::StrCat("graph: num_classes: ", g.num_classes,
                                                   " is outside [2, ", limits.max_classes, "]"));
  if (whole && g.nodes.empty()) return absl::InvalidArgumentError("graph: nodes: the graph has no nodes");
  if (static_cast<int>(g.nodes.size()) > limits.max_nodes)
    return absl::InvalidArgumentError(absl::StrCat("graph: nodes: ", g.nodes.size(),
                                                   " nodes exceed the limit ", limits.max_nodes));
  return absl::OkStatus();
}

// Every node left with indegree > 0 reads another such node, so walking
// back along those inputs must come round; the loop it closes is a cycle.
// (The first such node in the list may only sit downstream of one.)
absl::Status CycleError(const Graph& g, const GraphInfo& info, const std::vector<int>& indegree) {
  const int n = static_cast<int>(g.nodes.size());
  int v = 0;
  while (indegree[v] == 0) ++v;
  std::vector<int> seen_at(n, -1);
  std::vector<int> path;
  while (seen_at[v] < 0) {
    seen_at[v] = static_cast<int>(path.size());
    path.push_back(v);
    for (int src : info.nodes[v].inputs) {
      if (src != kGraphInput && indegree[src] > 0) {
        v = src;
        break;
      }
    }
  }
  // path[seen_at[v]..] walks the cycle against the data flow.
  std::string loop = g.nodes[v].name;
  for (int k = static_cast<int>(path.size()) - 1; k >= seen_at[v]; --k)
    absl::StrAppend(&loop, " -> ", g.nodes[path[k]].name);
  return NodeError(g.nodes[v], "inputs", absl::StrCat("is part of a cycle: ", loop));
}

}  // namespace

std::string ValueShape::ToString() const {
  if (flat) return absl::StrCat("(", channels, ")");
  return absl::StrCat("(", channels, ", ", height, ", ", width, ")");
}

namespace {

absl::StatusOr<GraphInfo> Analyze(const Graph& g, const GraphLimits& limits, bool whole) {
  if (auto s = CheckHeader(g, limits, whole); !s.ok()) return s;
  const int n = static_cast<int>(g.nodes.size());

  std::unordered_map<std::string_view, int> index;
  index.reserve(n);
  for (int i = 0; i < n; ++i) {
    const Node& node = g.nodes[i];
    if (!ValidName(node.name, limits.max_name_length))
      return absl::InvalidArgumentError(absl::StrCat(
          "node #", i, ": name: '", node.name.substr(0, limits.max_name_length),
          "' must be 1-", limits.max_name_length, " characters of [A-Za-z0-9_.:/-]"));
    if (node.name == kInputName)
      return absl::InvalidArgumentError(
          absl::StrCat("node #", i, ": name: '", kInputName, "' is reserved for the graph input"));
    if (!index.emplace(node.name, i).second)
      return absl::InvalidArgumentError(absl::StrCat("node '", node.name, "': name: duplicate"));
  }

  GraphInfo info;
  info.nodes.resize(n);
  info.input_shape = ValueShape{g.input.channels, g.input.height, g.input.width, false};
  std::vector<int> indegree(n, 0);
  for (int i = 0; i < n; ++i) {
    const Node& node = g.nodes[i];
    if (node.inputs.empty()) return NodeError(node, "inputs", "no inputs");
    if (static_cast<int>(node.inputs.size()) > limits.max_inputs_per_node)
      return NodeError(node, "inputs", absl::StrCat(node.inputs.size(), " inputs exceed the limit ",
                                                    limits.max_inputs_per_node));
    for (const std::string& in : node.inputs) {
      if (in == kInputName) {
        info.nodes[i].inputs.push_back(kGraphInput);
        info.input_consumers.push_back(i);
        continue;
      }
      auto it = index.find(in);
      if (it == index.end())
        return NodeError(node, "inputs", absl::StrCat("'", in.substr(0, 200), "' is not a node"));
      if (it->second == i) return NodeError(node, "inputs", "a node cannot read itself");
      info.nodes[i].inputs.push_back(it->second);
      info.nodes[it->second].consumers.push_back(i);
      ++indegree[i];
    }
  }

  // Kahn's algorithm, taking the ready node that comes first in the list, so
  // a graph listed in order keeps its order.
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < n; ++i)
    if (indegree[i] == 0) ready.push(i);
  while (!ready.empty()) {
    int v = ready.top();
    ready.pop();
    info.order.push_back(v);
    for (int c : info.nodes[v].consumers)
      if (--indegree[c] == 0) ready.push(c);
  }
  if (static_cast<int>(info.order.size()) != n) return CycleError(g, info, indegree);

  if (whole) {
    const std::string& out_name = g.OutputName();
    auto out_it = index.find(out_name);
    if (out_it == index.end())
      return absl::InvalidArgumentError(
          absl::StrCat("graph: output: '", out_name, "' is not a node"));
    info.output = out_it->second;
  }

  ShapeInference infer(limits);
  int64_t weight_bytes = 0, activation_bytes = 0;
  for (int v : info.order) {
    const Node& node = g.nodes[v];
    std::vector<ValueShape> in;
    for (int src : info.nodes[v].inputs)
      in.push_back(src == kGraphInput ? info.input_shape : info.nodes[src].shape);
    if (auto s = infer.Infer(node, in, &info.nodes[v]); !s.ok()) return s;
    const NodeInfo& ni = info.nodes[v];
    if (ni.shape.channels > limits.max_channels)
      return NodeError(node, "output", absl::StrCat(ni.shape.channels, " channels exceed the limit ",
                                                    limits.max_channels));
    info.params += ni.params;
    info.flops += ni.flops;
    weight_bytes += 4 * (ni.params + (node.op == OpKind::kBatchNorm ? 2 * ni.shape.channels : 0));
    activation_bytes += 4 * ni.shape.elements();
    if (weight_bytes > limits.max_weight_bytes)
      return NodeError(node, "weights", absl::StrCat("the graph's weights exceed ",
                                                     limits.max_weight_bytes, " bytes here"));
    if (activation_bytes > limits.max_activation_bytes)
      return NodeError(node, "output", absl::StrCat("the graph's activations exceed ",
                                                    limits.max_activation_bytes,
                                                    " bytes per sample here"));
  }
  info.weight_bytes = weight_bytes;
  info.activation_bytes = activation_bytes;
  if (!whole) return info;

  // Before the liveness pass: whatever reads the output is dead too, and
  // "never reaches the output" would name the reader, not the mistake.
  if (!info.nodes[info.output].consumers.empty())
    return NodeError(g.nodes[info.output], "output",
                     absl::StrCat("the graph output must not feed other nodes ('",
                                  g.nodes[info.nodes[info.output].consumers[0]].name,
                                  "' reads it)"));

  // Every node must feed the output: a dead branch is a mistake, not a no-op.
  std::vector<bool> live(n, false);
  live[info.output] = true;
  for (auto it = info.order.rbegin(); it != info.order.rend(); ++it) {
    if (!live[*it]) continue;
    for (int src : info.nodes[*it].inputs)
      if (src != kGraphInput) live[src] = true;
  }
  for (int i = 0; i < n; ++i)
    if (!live[i]) return NodeError(g.nodes[i], "output", "never reaches the graph output");

  const ValueShape& out = info.nodes[info.output].shape;
  if (out.elements() != g.num_classes || out.height != 1 || out.width != 1)
    return NodeError(g.nodes[info.output], "output",
                     absl::StrCat("produces ", out.ToString(), " but the graph has ",
                                  g.num_classes, " classes"));

  // Peak live activations when running `order` once (inference).
  std::vector<int> remaining(n);
  for (int i = 0; i < n; ++i) remaining[i] = static_cast<int>(info.nodes[i].consumers.size());
  int64_t live_bytes = 4 * info.input_shape.elements(), peak = live_bytes;
  int input_left = static_cast<int>(info.input_consumers.size());
  for (int v : info.order) {
    live_bytes += 4 * info.nodes[v].shape.elements();
    peak = std::max(peak, live_bytes);
    for (int src : info.nodes[v].inputs) {
      if (src == kGraphInput) {
        if (--input_left == 0) live_bytes -= 4 * info.input_shape.elements();
      } else if (--remaining[src] == 0) {
        live_bytes -= 4 * info.nodes[src].shape.elements();
      }
    }
  }
  info.peak_activation_bytes = peak;
  return info;
}

}  // namespace

absl::StatusOr<GraphInfo> AnalyzeGraph(const Graph& graph, const GraphLimits& limits) {
  return Analyze(graph, limits, /*whole=*/true);
}

absl::StatusOr<GraphInfo> InferShapes(const Graph& graph, const GraphLimits& limits) {
  return Analyze(graph, limits, /*whole=*/false);
}

}  // namespace edgenas
