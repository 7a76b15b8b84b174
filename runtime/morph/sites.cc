// MorphSites: every place where each morph applies, for a search to draw
// children from.
#include <string>
#include <vector>

#include "runtime/morph/checks.h"
#include "runtime/morph/graph_edit.h"
#include "runtime/morph/morph.h"

namespace edgenas {

const char* MorphKindName(MorphKind kind) {
  switch (kind) {
    case MorphKind::kDeepen:
      return "deepen";
    case MorphKind::kWiden:
      return "widen";
    case MorphKind::kSkipAdd:
      return "skip_add";
    case MorphKind::kSkipConcat:
      return "skip_concat";
    case MorphKind::kEnlarge:
      return "enlarge";
  }
  return "unknown";
}

absl::StatusOr<std::vector<MorphSite>> MorphSites(const Graph& graph) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  if (!info.ok()) return info.status();
  std::vector<MorphSite> sites;
  // Values in node order, the graph input first.
  std::vector<std::string> values = {kInputName};
  for (const Node& n : graph.nodes) values.push_back(n.name);
  for (const std::string& v : values) {
    DeepenOptions deepen;
    deepen.after = v;
    if (morph_internal::CheckDeepenAt(graph, *info, deepen).ok())
      sites.push_back({MorphKind::kDeepen, v, ""});
    if (v == kInputName) continue;
    if (morph_internal::CheckWidenAt(graph, *info, v).ok())
      sites.push_back({MorphKind::kWiden, v, ""});
    EnlargeOptions enlarge;
    enlarge.node = v;
    if (morph_internal::CheckEnlargeAt(graph, *info, enlarge).ok())
      sites.push_back({MorphKind::kEnlarge, v, ""});
  }
  for (const std::string& from : values) {
    for (const Node& to : graph.nodes) {
      for (auto [kind, skip] : {std::pair{MorphKind::kSkipAdd, SkipKind::kAdd},
                                {MorphKind::kSkipConcat, SkipKind::kConcat}}) {
        SkipOptions o;
        o.from = from;
        o.to = to.name;
        o.kind = skip;
        if (morph_internal::CheckSkipAt(graph, *info, o).ok())
          sites.push_back({kind, from, to.name});
      }
    }
  }
  return sites;
}

}  // namespace edgenas
