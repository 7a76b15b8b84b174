// Test-only helpers for the morphs' tests: a parent model with random
// weights, and the largest difference between a parent's and a child's
// logits over 1,000 random inputs. Uses GoogleTest.
#ifndef EDGENAS_RUNTIME_MORPH_TESTING_MORPH_CHECK_H_
#define EDGENAS_RUNTIME_MORPH_TESTING_MORPH_CHECK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/presets.h"
#include "runtime/model_file/model_file.h"
#include "runtime/morph/compare.h"
#include "runtime/testing/random_values.h"

namespace edgenas {
namespace testing {

// The acceptance bound on |parent - child| before any noise.
inline constexpr double kMorphTolerance = 1e-4;
inline constexpr int kMorphSamples = 1000;
inline constexpr int kMorphBatch = 250;

// Random weights everywhere, batch-norm statistics and affine included.
inline Model RandomModel(const Graph& graph, uint64_t seed) {
  Model m;
  m.graph = graph;
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  EXPECT_TRUE(info.ok()) << info.status();
  if (info.ok()) m.params = RandomParams(graph, *info, seed);
  return m;
}

inline Model PresetModel(const std::string& name, uint64_t seed = 7) {
  absl::StatusOr<Graph> g = Preset(name);
  EXPECT_TRUE(g.ok()) << g.status();
  return RandomModel(*g, seed);
}

// Largest |parent - child| logit over kMorphSamples random normal inputs;
// a failure to run either is a test failure and returns infinity.
inline double MaxDifference(Model& parent, Model& child, uint64_t seed = 11) {
  const std::vector<float> x = RandomInput(parent.graph, kMorphSamples, seed);
  absl::StatusOr<OutputDifference> d = CompareOutputs(&parent, &child, x, kMorphBatch);
  EXPECT_TRUE(d.ok()) << d.status();
  if (!d.ok()) return INFINITY;
  EXPECT_GT(d->max_parent_abs, 0.0) << "the parent's logits are all zero: nothing is checked";
  return d->max_abs;
}

}  // namespace testing
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_MORPH_TESTING_MORPH_CHECK_H_
