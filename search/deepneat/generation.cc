#include "search/deepneat/generation.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"

namespace edgenas {
namespace deepneat {

absl::StatusOr<std::optional<GenerationResult>> EvaluateGeneration(
    SearchContext& ctx, const std::vector<Network>& networks, double max_mflops) {
  GenerationResult out;
  out.fitness.assign(networks.size(), 0.0);
  std::vector<EvaluationRequest> requests;
  std::vector<int> request_of(networks.size(), -1);
  std::map<std::string, int> by_key;  // graph hash + training -> request
  for (size_t i = 0; i < networks.size(); ++i) {
    absl::StatusOr<GraphInfo> info = AnalyzeGraph(networks[i].graph);
    if (!info.ok())
      return absl::InternalError(
          absl::StrCat("a genome decoded to an invalid graph: ", info.status().message()));
    if (info->flops > max_mflops * 1e6) {
      ++out.over_budget;
      continue;
    }
    const TrainingSettings training = networks[i].training.value_or(ctx.settings().training);
    const std::string key = EvaluationKey(ctx.settings(), CanonicalHash(networks[i].graph, *info), "", training);
    auto [it, added] = by_key.emplace(key, static_cast<int>(requests.size()));
    if (added) {
      EvaluationRequest r;
      r.graph = networks[i].graph;
      r.training = networks[i].training;
      requests.push_back(std::move(r));
    }
    request_of[i] = it->second;
  }
  out.trained = static_cast<int>(requests.size());
  const std::vector<std::optional<TrialResult>> results = WaitAll(ctx, ctx.Evaluate(requests));
  if (!AllArrived(results)) return std::optional<GenerationResult>();
  for (size_t i = 0; i < networks.size(); ++i) {
    if (request_of[i] < 0) continue;
    const TrialResult& r = *results[request_of[i]];
    out.fitness[i] = r.ok ? std::max(0.0, r.reward) : 0.0;
    out.best = std::max(out.best, out.fitness[i]);
  }
  return std::optional<GenerationResult>(std::move(out));
}

}  // namespace deepneat
}  // namespace edgenas
