#include "search/fixed/fixed_strategy.h"

#include "absl/strings/str_cat.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_json.h"
#include "runtime/graph/presets.h"

namespace edgenas {

absl::StatusOr<std::vector<Graph>> FixedStrategy::Parse(const nlohmann::json& params) {
  if (!params.is_object()) return absl::InvalidArgumentError("must be an object");
  std::vector<Graph> graphs;
  for (auto it = params.begin(); it != params.end(); ++it) {
    const std::string& key = it.key();
    if (key != "presets" && key != "architectures")
      return absl::InvalidArgumentError(absl::StrCat(key, ": unknown field (known: architectures, presets)"));
    if (!it->is_array() || it->size() > 1000)
      return absl::InvalidArgumentError(absl::StrCat(key, ": must be a list of at most 1000 entries"));
  }
  if (auto p = params.find("presets"); p != params.end()) {
    for (size_t i = 0; i < p->size(); ++i) {
      if (!(*p)[i].is_string()) return absl::InvalidArgumentError(absl::StrCat("presets[", i, "]: must be a name"));
      absl::StatusOr<Graph> g = Preset((*p)[i].get<std::string>());
      if (!g.ok()) return absl::InvalidArgumentError(absl::StrCat("presets[", i, "]: ", g.status().message()));
      graphs.push_back(*std::move(g));
    }
  }
  if (auto a = params.find("architectures"); a != params.end()) {
    for (size_t i = 0; i < a->size(); ++i) {
      absl::StatusOr<Graph> g = GraphFromJsonValue((*a)[i]);
      if (g.ok()) {
        absl::StatusOr<GraphInfo> info = AnalyzeGraph(*g);
        if (!info.ok()) g = info.status();
      }
      if (!g.ok())
        return absl::InvalidArgumentError(absl::StrCat("architectures[", i, "]: ", g.status().message()));
      graphs.push_back(*std::move(g));
    }
  }
  if (graphs.empty()) return absl::InvalidArgumentError("presets: give at least one preset or architecture");
  return graphs;
}

absl::Status FixedStrategy::ValidateParams(const nlohmann::json& params) { return Parse(params).status(); }

absl::StatusOr<std::unique_ptr<SearchStrategy>> FixedStrategy::Make(const nlohmann::json& params) {
  absl::StatusOr<std::vector<Graph>> graphs = Parse(params);
  if (!graphs.ok()) return graphs.status();
  return std::unique_ptr<SearchStrategy>(new FixedStrategy(*std::move(graphs)));
}

absl::Status FixedStrategy::Run(SearchContext& ctx) {
  const SearchSettings& s = ctx.settings();
  for (size_t i = 0; i < graphs_.size(); ++i) {
    const Graph& g = graphs_[i];
    if (g.input.channels != s.input_channels || g.input.height != s.input_height ||
        g.input.width != s.input_width || g.num_classes != s.num_classes)
      return absl::InvalidArgumentError(absl::StrCat(
          "strategy.params: architecture ", i, " takes ", g.input.channels, "x", g.input.height, "x",
          g.input.width, " with ", g.num_classes, " classes; the dataset has ", s.input_channels, "x",
          s.input_height, "x", s.input_width, " with ", s.num_classes));
  }
  std::vector<std::optional<TrialResult>> results = WaitAll(ctx, ctx.Evaluate(graphs_));
  int ok = 0, arrived = 0;
  for (const std::optional<TrialResult>& r : results) {
    arrived += r.has_value();
    ok += r && r->ok;
  }
  ctx.Progress(ProgressUpdate{arrived,
                              absl::StrCat(ok, " of ", graphs_.size(), " architectures evaluated")});
  return absl::OkStatus();
}

}  // namespace edgenas
