// One generation's networks evaluated through the SearchContext, for the
// neuroevolution strategies: a network above the multiply-add bound is not
// trained (its fitness is 0), identical networks with identical training
// are trained once, and a network's fitness is its reward under the job's
// objective (0 when it failed, never below 0: NEAT's fitness sharing needs
// fitness >= 0).
#ifndef EDGENAS_SEARCH_DEEPNEAT_GENERATION_H_
#define EDGENAS_SEARCH_DEEPNEAT_GENERATION_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph/graph.h"
#include "search/api/search_context.h"

namespace edgenas {
namespace deepneat {

struct Network {
  Graph graph;
  std::optional<TrainingSettings> training;  // absent: the job's
};

struct GenerationResult {
  std::vector<double> fitness;  // per network
  int trained = 0;              // networks sent to training (after dedup)
  int over_budget = 0;          // networks not trained for their multiply-adds
  double best = 0;              // the best fitness
};

// nullopt when the context stopped before every result arrived (the caller
// keeps its last checkpoint; a resumed run evaluates the generation again,
// served from the cache). An error only for a network that does not
// analyze, which is a bug of the decoder.
absl::StatusOr<std::optional<GenerationResult>> EvaluateGeneration(
    SearchContext& ctx, const std::vector<Network>& networks, double max_mflops);

}  // namespace deepneat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_DEEPNEAT_GENERATION_H_
