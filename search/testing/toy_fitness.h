// A toy stand-in for training and measuring, for strategy tests:
// accuracy grows with the parameter count (0.5 + 0.4 (1 - e^(-params/20000))),
// latency with the multiply-adds (0.05 ms + 1 ms per 10 M).
#ifndef EDGENAS_SEARCH_TESTING_TOY_FITNESS_H_
#define EDGENAS_SEARCH_TESTING_TOY_FITNESS_H_

#include <cstdint>

#include "runtime/graph/graph.h"
#include "search/api/evaluation.h"

namespace edgenas {

TrialResult ToyFitness(const Graph& graph);

// A job for ToyFitness: the soft MnasNet objective at its default target,
// `seed` and `max_trials`.
SearchSettings ToySettings(uint64_t seed, int max_trials);

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_TESTING_TOY_FITNESS_H_
