// Whether each morph applies, on a graph already analysed: what the public
// Check* functions and MorphSites share, so that listing every site analyses
// the graph once. Internal to runtime/morph.
#ifndef EDGENAS_RUNTIME_MORPH_CHECKS_H_
#define EDGENAS_RUNTIME_MORPH_CHECKS_H_

#include <string>

#include "absl/status/status.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph.h"
#include "runtime/morph/morph.h"

namespace edgenas {
namespace morph_internal {

// `info` is AnalyzeGraph(graph)'s.
absl::Status CheckDeepenAt(const Graph& graph, const GraphInfo& info, const DeepenOptions& options);
absl::Status CheckWidenAt(const Graph& graph, const GraphInfo& info, const std::string& node);
absl::Status CheckSkipAt(const Graph& graph, const GraphInfo& info, const SkipOptions& options);
absl::Status CheckEnlargeAt(const Graph& graph, const GraphInfo& info,
                            const EnlargeOptions& options);

}  // namespace morph_internal
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_MORPH_CHECKS_H_
