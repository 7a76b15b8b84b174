#include "search/testing/toy_fitness.h"

#include <cmath>

#include "runtime/graph/analyze.h"

namespace edgenas {

TrialResult ToyFitness(const Graph& graph) {
  const GraphInfo info = *AnalyzeGraph(graph);
  TrialResult r;
  r.ok = true;
  r.val_accuracy = 0.5 + 0.4 * (1 - std::exp(-static_cast<double>(info.params) / 20000));
  r.latency_ms = 0.05 + info.flops / 1e7;
  return r;
}

SearchSettings ToySettings(uint64_t seed, int max_trials) {
  SearchSettings s;
  s.seed = seed;
  s.max_trials = max_trials;
  s.objective = SearchSettings::Objective::kMnas;
  s.mnas = MnasObjective::Soft(1.0);
  return s;
}

}  // namespace edgenas
