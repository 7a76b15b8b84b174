// PlanChannels: the walk. Rewriting the weights is channel_rewrite.cc's.
#include <algorithm>
#include <deque>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/morph/channel_flow.h"
#include "runtime/morph/graph_edit.h"

namespace edgenas {
namespace morph_internal {
namespace {

// A conv whose every input channel is its own group, with more than one
// channel (a one-channel conv is an ordinary one).
bool IsDepthwise(const Node& node, const ValueShape& in) {
  return node.conv.groups > 1 && node.conv.groups == in.channels;
}

// Entry (c, r) of a value whose channel c fans out into `k` consecutive
// entries (a depthwise conv's outputs per input channel, a flatten's
// features per channel).
ChannelMap Expand(const ChannelMap& map, int k) {
  ChannelMap out;
  out.reserve(map.size() * k);
  for (int c : map)
    for (int r = 0; r < k; ++r) out.push_back(c == kFresh ? kFresh : c * k + r);
  return out;
}

// The inverse of Expand, or false when `map` is not of that form.
bool Contract(const ChannelMap& map, int k, ChannelMap* out) {
  if (map.size() % k != 0) return false;
  out->clear();
  for (size_t c = 0; c < map.size() / k; ++c) {
    const int base = map[c * k];
    for (int r = 0; r < k; ++r) {
      const int want = base == kFresh ? kFresh : base + r;
      if (map[c * k + r] != want) return false;
    }
    if (base != kFresh && base % k != 0) return false;
    out->push_back(base == kFresh ? kFresh : base / k);
  }
  return true;
}

ChannelMap Identity(int n) {
  ChannelMap m(n);
  for (int j = 0; j < n; ++j) m[j] = j;
  return m;
}

class Planner {
 public:
  Planner(const Graph& graph, const GraphInfo& info) : graph_(graph), info_(info) {
    position_.resize(info.nodes.size());
    for (size_t i = 0; i < info.order.size(); ++i) position_[info.order[i]] = static_cast<int>(i);
  }

  absl::StatusOr<ChannelPlan> Run(int source, ChannelMap map) {
    plan_.source = source;
    if (absl::Status s = Request(source, std::move(map)); !s.ok()) return s;
    for (;;) {
      while (!work_.empty()) {
        const int v = work_.front();
        work_.pop_front();
        if (v != source)
          if (absl::Status s = Produce(v); !s.ok()) return s;
        if (absl::Status s = Spread(v); !s.ok()) return s;
      }
      // A concat's layout is its inputs' maps side by side: decided once the
      // widening has reached every input it will, the first in topological
      // order first (its inputs can only be widened from upstream of it).
      if (concats_.empty()) break;
      auto first = std::min_element(concats_.begin(), concats_.end(), [&](int a, int b) {
        return position_[a] < position_[b];
      });
      const int c = *first;
      concats_.erase(first);
      if (absl::Status s = Request(c, ConcatMap(c)); !s.ok()) return s;
    }
    return std::move(plan_);
  }

 private:
  const ChannelMap* Decided(int value) const {
    auto it = plan_.widened.find(value);
    return it == plan_.widened.end() ? nullptr : &it->second;
  }
  const ValueShape& InShape(int node, int k) const {
    return ValueShapeOf(info_, info_.nodes[node].inputs[k]);
  }

  // `value` must carry `map`.
  absl::Status Request(int value, ChannelMap map) {
    if (value == kGraphInput)
      return RefuseValue(graph_, value, "its channels are fixed, and the widening reaches it");
    if (value == info_.output)
      return Refuse(graph_, value,
                    absl::StrCat("it is the graph output: its ", graph_.num_classes,
                                 " class outputs cannot grow"));
    if (const ChannelMap* have = Decided(value)) {
      if (*have == map) return absl::OkStatus();
      return Refuse(graph_, value,
                    "the widening would need two different layouts of its channels here");
    }
    plan_.widened.emplace(value, std::move(map));
    work_.push_back(value);
    return absl::OkStatus();
  }

  // The map of a concat's output from its inputs' maps (identity where an
  // input is not widened).
  ChannelMap ConcatMap(int node) const {
    ChannelMap out;
    int offset = 0;
    for (int in : info_.nodes[node].inputs) {
      const int channels = ValueShapeOf(info_, in).channels;
      const ChannelMap* m = in == kGraphInput ? nullptr : Decided(in);
      const ChannelMap part = m != nullptr ? *m : Identity(channels);
      for (int c : part) out.push_back(c == kFresh ? kFresh : offset + c);
      offset += channels;
    }
    return out;
  }

  // Backward: how node v's widened output comes about.
  absl::Status Produce(int v) {
    const Node& node = graph_.nodes[v];
    const ChannelMap map = *Decided(v);
    const std::vector<int>& inputs = info_.nodes[v].inputs;
    switch (node.op) {
      case OpKind::kConv:
        if (node.conv.groups == 1) return absl::OkStatus();  // its rows are replicated
        if (IsDepthwise(node, InShape(v, 0))) {
          ChannelMap in;
          const int k = node.conv.out_channels / node.conv.groups;
          if (!Contract(map, k, &in))
            return Refuse(graph_, v, "a depthwise conv's outputs must widen by whole channels");
          return Request(inputs[0], std::move(in));
        }
        return Refuse(graph_, v, GroupedWhy(node));
      case OpKind::kDense:
        return absl::OkStatus();
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
      case OpKind::kDropout:
        return Request(inputs[0], map);
      case OpKind::kAdd:
      case OpKind::kMultiply:  // a (C, 1, 1) second input broadcasts: the same channels
        for (int in : inputs)
          if (absl::Status s = Request(in, map); !s.ok()) return s;
        return absl::OkStatus();
      case OpKind::kConcat:
        // Asked for by its readers' side (an add or multiply it feeds): new
        // channels would have to sit between its inputs' channels, which
        // concat cannot place there.
        if (ConcatMap(v) != map)
          return Refuse(graph_, v,
                        "the widening reaches it from its output's side, where new channels "
                        "would have to sit among its inputs' channels");
        return absl::OkStatus();
      case OpKind::kFlatten: {
        ChannelMap in;
        const ValueShape& s = InShape(v, 0);
        if (!Contract(map, s.height * s.width, &in))
          return Refuse(graph_, v, "its features would not widen by whole channels");
        return Request(inputs[0], std::move(in));
      }
      case OpKind::kChannelShuffle:
        return Refuse(graph_, v, kShuffleWhy);
      case OpKind::kSoftmax:
        return Refuse(graph_, v, kSoftmaxWhy);
    }
    return Refuse(graph_, v, "unknown op");
  }

  // Forward: what the readers of widened value v become.
  absl::Status Spread(int v) {
    const ChannelMap map = *Decided(v);
    for (int r : Readers(info_, v))
      if (absl::Status s = SpreadTo(v, map, r); !s.ok()) return s;
    return absl::OkStatus();
  }

  absl::Status SpreadTo(int v, const ChannelMap& map, int r) {
    const Node& node = graph_.nodes[r];
    switch (node.op) {
      case OpKind::kConv:
        if (node.conv.groups == 1) {
          plan_.readers.insert(r);
          return absl::OkStatus();
        }
        if (IsDepthwise(node, InShape(r, 0)))
          return Request(r, Expand(map, node.conv.out_channels / node.conv.groups));
        return Refuse(graph_, r, GroupedWhy(node));
      case OpKind::kDense:
        plan_.readers.insert(r);
        return absl::OkStatus();
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
      case OpKind::kDropout:
      case OpKind::kAdd:
      case OpKind::kMultiply:
        return Request(r, map);
      case OpKind::kConcat:
        // Decided once all its inputs are; decided already, it must agree.
        if (Decided(r) != nullptr) return Request(r, ConcatMap(r));
        concats_.insert(r);
        return absl::OkStatus();
      case OpKind::kFlatten: {
        const ValueShape& s = info_.nodes[v].shape;
        return Request(r, Expand(map, s.height * s.width));
      }
      case OpKind::kChannelShuffle:
        return Refuse(graph_, r, kShuffleWhy);
      case OpKind::kSoftmax:
        return Refuse(graph_, r, kSoftmaxWhy);
    }
    return Refuse(graph_, r, "unknown op");
  }

  static std::string GroupedWhy(const Node& node) {
    return absl::StrCat("a grouped conv (groups ", node.conv.groups,
                        "): its groups fix which input channels each output reads, and "
                        "replicas would fall into other groups");
  }
  static constexpr char kShuffleWhy[] =
      "a channel shuffle interleaves channel groups: replicated channels would land in other "
      "groups";
  static constexpr char kSoftmaxWhy[] =
      "softmax normalizes over all units: a replicated unit would count more than once";

  const Graph& graph_;
  const GraphInfo& info_;
  ChannelPlan plan_;
  std::deque<int> work_;
  std::set<int> concats_;      // concats reached from an input, not yet decided
  std::vector<int> position_;  // node -> its place in info_.order
};

}  // namespace

absl::StatusOr<ChannelPlan> PlanChannels(const Graph& graph, const GraphInfo& info, int source,
                                         ChannelMap map) {
  return Planner(graph, info).Run(source, std::move(map));
}

}  // namespace morph_internal
}  // namespace edgenas
