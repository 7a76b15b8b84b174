// ApplyChannelPlan and AddReplicaNoise: the weights and attributes a
// ChannelPlan changes. Layouts are params.h's: conv (O, I/groups, KH, KW),
// dense (O, I) with I in (C, H, W) order, batch norm (C).
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "runtime/morph/channel_flow.h"
#include "runtime/morph/graph_edit.h"

namespace edgenas {
namespace morph_internal {
namespace {

// Replica count of every parent channel the map copies.
std::map<int, int> Counts(const ChannelMap& map) {
  std::map<int, int> counts;
  for (int c : map)
    if (c != kFresh) ++counts[c];
  return counts;
}

// A (O, I, ...) weight with rows taken by `out` and columns by `in` (either
// may be null: unchanged); a column's weight is divided by the replica count
// of the channel it copies, and fresh rows or columns are 0.
ParamTensor Remap(const ParamTensor& w, const ChannelMap* out, const ChannelMap* in) {
  const int64_t rows = w.dims[0], cols = w.dims[1];
  int64_t taps = 1;
  for (size_t d = 2; d < w.dims.size(); ++d) taps *= w.dims[d];
  const int64_t new_rows = out ? static_cast<int64_t>(out->size()) : rows;
  const int64_t new_cols = in ? static_cast<int64_t>(in->size()) : cols;
  const std::map<int, int> counts = in ? Counts(*in) : std::map<int, int>();
  ParamTensor t;
  t.dims = w.dims;
  t.dims[0] = new_rows;
  t.dims[1] = new_cols;
  t.trainable = w.trainable;
  t.values.assign(new_rows * new_cols * taps, 0.0f);
  for (int64_t o = 0; o < new_rows; ++o) {
    const int64_t so = out ? (*out)[o] : o;
    if (so == kFresh) continue;
    for (int64_t i = 0; i < new_cols; ++i) {
      const int64_t si = in ? (*in)[i] : i;
      if (si == kFresh) continue;
      const float scale = in ? 1.0f / counts.at(static_cast<int>(si)) : 1.0f;
      for (int64_t k = 0; k < taps; ++k)
        t.values[(o * new_cols + i) * taps + k] = w.values[(so * cols + si) * taps + k] * scale;
    }
  }
  return t;
}

// A per-channel tensor taken by `out`, `fresh` for new channels.
void RemapVector(ParamTensor* t, const ChannelMap& out, float fresh) {
  std::vector<float> v(out.size());
  for (size_t j = 0; j < out.size(); ++j) v[j] = out[j] == kFresh ? fresh : t->values[out[j]];
  t->values = std::move(v);
  t->dims = {static_cast<int64_t>(out.size())};
}

// The map of the features a reader's weight columns see: a dense reading a
// (C, H, W) value sees each channel as H x W features.
ChannelMap ReaderColumns(const Node& node, const ValueShape& in, const ChannelMap& map) {
  if (node.op != OpKind::kDense || in.height * in.width == 1) return map;
  const int k = in.height * in.width;
  ChannelMap out;
  for (int c : map)
    for (int r = 0; r < k; ++r) out.push_back(c == kFresh ? kFresh : c * k + r);
  return out;
}

void RewriteWeighted(const Node& parent_node, const ValueShape& in, const ChannelMap* out,
                     const ChannelMap* in_map, Node* node, ParamStore* params) {
  ParamTensor* w = params->Find(ParamKey(node->name, "weight"));
  std::optional<ChannelMap> cols;
  if (in_map) cols = ReaderColumns(parent_node, in, *in_map);
  *w = Remap(*w, out, cols ? &*cols : nullptr);
  if (out == nullptr) return;
  if (ParamTensor* b = params->Find(ParamKey(node->name, "bias"))) RemapVector(b, *out, 0.0f);
  const int width = static_cast<int>(out->size());
  if (node->op == OpKind::kDense) {
    node->dense.units = width;
    return;
  }
  // A depthwise conv's groups follow its input channels.
  const ConvAttrs& a = parent_node.conv;
  if (a.groups > 1 && a.groups == in.channels)
    node->conv.groups = width / (a.out_channels / a.groups);
  node->conv.out_channels = width;
}

}  // namespace

void ApplyChannelPlan(const ChannelPlan& plan, const Graph& parent, const GraphInfo& info,
                      bool rewrite_source, Graph* child, ParamStore* params) {
  std::set<int> nodes = plan.readers;
  for (const auto& [v, map] : plan.widened) nodes.insert(v);
  for (int v : nodes) {
    const Node& pn = parent.nodes[v];
    Node* node = &child->nodes[v];
    auto w = plan.widened.find(v);
    const ChannelMap* out =
        w != plan.widened.end() && (v != plan.source || rewrite_source) ? &w->second : nullptr;
    const int in_value = info.nodes[v].inputs[0];
    const ChannelMap* in = plan.readers.count(v) ? &plan.widened.at(in_value) : nullptr;
    switch (pn.op) {
      case OpKind::kConv:
      case OpKind::kDense:
        if (out || in) RewriteWeighted(pn, ValueShapeOf(info, in_value), out, in, node, params);
        break;
      case OpKind::kBatchNorm:
        if (out) {
          for (auto [part, fresh] : {std::pair{"gamma", 1.0f}, {"beta", 0.0f},
                                     {"running_mean", 0.0f}, {"running_var", 1.0f}})
            RemapVector(params->Find(ParamKey(node->name, part)), *out, fresh);
        }
        break;
      // No weights and no attributes that name a channel count: their shapes
      // follow their inputs'.
      case OpKind::kMaxPool:
      case OpKind::kAvgPool:
      case OpKind::kGlobalAvgPool:
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
      case OpKind::kFlatten:
      case OpKind::kDropout:
        break;
      // PlanChannels refuses these.
      case OpKind::kChannelShuffle:
      case OpKind::kSoftmax:
        break;
    }
  }
  params->Touch();
}

void AddReplicaNoise(const ChannelPlan& plan, const Graph& child, const GraphInfo& info,
                     float noise, std::mt19937_64& rng, ParamStore* params) {
  if (noise <= 0) return;
  for (int r : plan.readers) {
    const Node& node = child.nodes[r];
    const int in_value = info.nodes[r].inputs[0];
    const ChannelMap cols =
        ReaderColumns(node, ValueShapeOf(info, in_value), plan.widened.at(in_value));
    std::map<int, std::vector<int>> sets;  // parent channel -> its replicas' columns
    for (size_t j = 0; j < cols.size(); ++j)
      if (cols[j] != kFresh) sets[cols[j]].push_back(static_cast<int>(j));
    ParamTensor* w = params->Find(ParamKey(node.name, "weight"));
    double sum_sq = 0;
    for (float x : w->values) sum_sq += double{x} * x;
    const float rms = static_cast<float>(std::sqrt(sum_sq / w->values.size()));
    std::normal_distribution<float> dist(0.0f, noise * rms);
    const int64_t rows = w->dims[0], ncols = w->dims[1];
    const int64_t taps = w->size() / (rows * ncols);
    std::vector<float> e;
    for (const auto& [c, set] : sets) {
      if (set.size() < 2) continue;
      e.resize(set.size());
      for (int64_t o = 0; o < rows; ++o) {
        for (int64_t k = 0; k < taps; ++k) {
          float mean = 0;
          for (float& x : e) mean += (x = dist(rng));
          mean /= e.size();
          for (size_t s = 0; s < set.size(); ++s)
            w->values[(o * ncols + set[s]) * taps + k] += e[s] - mean;
        }
      }
    }
  }
  params->Touch();
}

}  // namespace morph_internal
}  // namespace edgenas
