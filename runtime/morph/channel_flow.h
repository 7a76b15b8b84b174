// How a change of one value's channels flows through a graph: the shared core
// of widen (Net2WiderNet) and the concat skip.
//
// A widened value's channels are described by a ChannelMap: new channel j
// copies parent channel map[j], or is kFresh (no parent channel: a concat
// skip's new channels). For a flat value the map is over its features.
//
// PlanChannels starts from one value with a given map and works out every
// other value that must change with it, and how:
//  - per-channel ops (batch norm, activations, pooling, dropout) pass the map
//    through; flatten expands it to features; a depthwise conv (groups =
//    channels) passes it on to its outputs, its groups growing with it;
//  - add and multiply (squeeze-and-excite's broadcast too) need every input
//    with the same map, so they widen the other inputs alike, back to the
//    convs and denses that produce them (their rows replicated);
//  - concat places each input's map at its offset, once the widening has
//    reached all the inputs it will; a concat that an add or multiply asks
//    to widen from its output's side refuses (new channels would have to
//    sit among its inputs');
//  - convs with groups 1 and denses that read a widened value are its
//    readers: their weights for a channel are divided by its replica count
//    (0 for fresh channels), so their outputs do not change.
// Where the flow cannot go (a grouped conv, a channel shuffle, softmax, the
// graph input or output, a value asked for two layouts) it refuses, naming
// the node and the reason.
#ifndef EDGENAS_RUNTIME_MORPH_CHANNEL_FLOW_H_
#define EDGENAS_RUNTIME_MORPH_CHANNEL_FLOW_H_

#include <map>
#include <random>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/exec/params.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph.h"

namespace edgenas {
namespace morph_internal {

inline constexpr int kFresh = -1;
using ChannelMap = std::vector<int>;

struct ChannelPlan {
  int source = -1;
  std::map<int, ChannelMap> widened;  // node -> map of its output's channels
  std::set<int> readers;              // convs (groups 1) and denses reading a widened value
};

// `source`'s output widened to `map` (its size the new channel count).
absl::StatusOr<ChannelPlan> PlanChannels(const Graph& graph, const GraphInfo& info, int source,
                                         ChannelMap map);

// Rewrites the attributes (out_channels, units, depthwise groups) of
// `child`, whose nodes have the parent's indices, and the weights in
// `params`: rows of widened convs and denses (the source's only when
// `rewrite_source`), batch-norm tensors, and readers' columns.
void ApplyChannelPlan(const ChannelPlan& plan, const Graph& parent, const GraphInfo& info,
                      bool rewrite_source, Graph* child, ParamStore* params);

// Symmetry breaking: noise of `noise` times each reader's weight RMS on its
// weights for replicated channels, minus the mean over each replica set, so
// that the sum over the set, which is what the reader computes, is kept.
void AddReplicaNoise(const ChannelPlan& plan, const Graph& child, const GraphInfo& info,
                     float noise, std::mt19937_64& rng, ParamStore* params);

}  // namespace morph_internal
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_MORPH_CHANNEL_FLOW_H_
