#include "search/api/search_context.h"

namespace edgenas {

std::vector<std::shared_future<TrialResult>> SearchContext::Evaluate(
    const std::vector<Graph>& graphs) {
  std::vector<EvaluationRequest> requests(graphs.size());
  for (size_t i = 0; i < graphs.size(); ++i) requests[i].graph = graphs[i];
  return Evaluate(requests);
}

}  // namespace edgenas
