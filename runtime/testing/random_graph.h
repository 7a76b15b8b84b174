// Seeded random valid graphs over the whole op set, for tests, fuzzing and
// benchmarks.
//
// A generated graph is a DAG with branches and merges (residual adds, long
// skips, concats, gates, squeeze-and-excite), the composite blocks of
// blocks.h, a global pool or flatten, optional flat layers, and a dense to
// num_classes (sometimes followed by softmax). Every graph passes
// AnalyzeGraph, and activations stay small so that running one is cheap.
// Nodes are named "n<k>_<op>" (blocks "n<k>_<block>/<part>"), k counting up
// in the order of creation, whatever order the node list is in.
#ifndef EDGENAS_RUNTIME_TESTING_RANDOM_GRAPH_H_
#define EDGENAS_RUNTIME_TESTING_RANDOM_GRAPH_H_

#include <random>

#include "runtime/graph/graph.h"

namespace edgenas {

struct RandomGraphOptions {
  Shape3 input{3, 16, 16};
  int num_classes = 10;
  int max_nodes = 30;     // at least one node is always made
  int max_channels = 32;  // of any value before the head: keeps activations small
};

// What the generator did, for tests of the generator itself.
struct RandomGraphStats {
  // Steps the generator built and then found invalid (and undid). Always 0
  // unless the generator has a bug: steps are meant to be valid by design.
  int invalid_steps = 0;
};

// `options` must describe a valid graph header (input within GraphLimits,
// num_classes >= 2). The same `rng` state and options give the same graph on
// every platform: only the generator's raw 64-bit output is used, never a
// std distribution, and no two draws share one expression.
Graph RandomGraph(std::mt19937_64& rng, const RandomGraphOptions& options,
                  RandomGraphStats* stats = nullptr);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_TESTING_RANDOM_GRAPH_H_
