// The canonical hash of a graph: structure and attributes, not node names,
// node order or weights. It keys the result cache, latency measurements and
// de-duplication everywhere.
#ifndef EDGENAS_RUNTIME_GRAPH_GRAPH_HASH_H_
#define EDGENAS_RUNTIME_GRAPH_GRAPH_HASH_H_

#include <string>

#include "absl/status/statusor.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph.h"

namespace edgenas {

// 32 hex characters (128 bits of SHA-256). `info` must come from AnalyzeGraph(graph).
std::string CanonicalHash(const Graph& graph, const GraphInfo& info);
absl::StatusOr<std::string> CanonicalHash(const Graph& graph);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_GRAPH_GRAPH_HASH_H_
