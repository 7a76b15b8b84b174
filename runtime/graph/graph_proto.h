// Conversion between the graph IR and its wire form (edgenas.v1.Graph).
#ifndef EDGENAS_RUNTIME_GRAPH_GRAPH_PROTO_H_
#define EDGENAS_RUNTIME_GRAPH_GRAPH_PROTO_H_

#include "absl/status/statusor.h"
#include "edgenas/v1/graph.pb.h"
#include "runtime/graph/graph.h"

namespace edgenas {

void GraphToProto(const Graph& graph, v1::Graph* out);
// Refuses unknown ops and attributes that belong to another op; the graph
// still needs AnalyzeGraph before use.
absl::StatusOr<Graph> GraphFromProto(const v1::Graph& proto);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_GRAPH_GRAPH_PROTO_H_
