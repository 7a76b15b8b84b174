// Test-only helpers for the morphs' tests: a parent model with random
// weights, and the largest difference between a parent's and a child's
// logits over 1,000 random inputs. Uses GoogleTest.
#ifndef EDGENAS_RUNTIME_MORPH_TESTING_MORPH_CHECK_H_
#define EDGENAS_RUNTIME_MORPH_TESTING_MORPH_CHECK_H_

#include <algorithm>
#include <cmath>
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

// A parent's logits on kMorphSamples random normal inputs, kept to compare
// many children with.
struct ParentRun {
  std::vector<float> inputs, logits;
};

inline ParentRun RunParent(Model& parent, uint64_t seed = 11) {
  ParentRun run;
  run.inputs = RandomInput(parent.graph, kMorphSamples, seed);
  absl::StatusOr<std::vector<float>> logits =
      LogitsOf(parent.graph, &parent.params, run.inputs, kMorphBatch);
  EXPECT_TRUE(logits.ok()) << logits.status();
  if (logits.ok()) run.logits = *std::move(logits);
  double largest = 0;
  for (float v : run.logits) largest = std::max(largest, double{std::fabs(v)});
  EXPECT_GT(largest, 0.0) << "the parent's logits are all zero: nothing is checked";
  return run;
}

// Largest |parent - child| logit; a failure to run the child is a test
// failure and returns infinity, as does a NaN.
inline double MaxDifference(const ParentRun& parent, Model& child) {
  absl::StatusOr<std::vector<float>> logits =
      LogitsOf(child.graph, &child.params, parent.inputs, kMorphBatch);
  EXPECT_TRUE(logits.ok()) << logits.status();
  if (!logits.ok()) return INFINITY;
  return CompareLogits(parent.logits, *logits, child.graph.num_classes).max_abs;
}

inline double MaxDifference(Model& parent, Model& child, uint64_t seed = 11) {
  return MaxDifference(RunParent(parent, seed), child);
}

}  // namespace testing
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_MORPH_TESTING_MORPH_CHECK_H_
