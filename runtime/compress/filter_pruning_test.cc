#include "runtime/compress/filter_pruning.h"

#include <algorithm>

#include "gtest/gtest.h"
#include "runtime/exec/params.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/presets.h"
#include "runtime/morph/morph.h"
#include "runtime/morph/testing/morph_check.h"

namespace edgenas {
namespace {

int64_t FlopsOfPruned(const Graph& g) { return AnalyzeGraph(g)->flops; }

// Makes filters `dead` of conv `node` contribute nothing downstream: zero
// weights and bias, and the batch norm after it (if `bn`) mapping 0 to 0.
void KillFilters(Model* m, const std::string& node, const std::string& bn, const std::vector<int>& dead) {
  ParamTensor* w = m->params.Find(ParamKey(node, "weight"));
  const int64_t per = w->size() / w->dims[0];
  for (int f : dead) {
    std::fill(w->values.begin() + f * per, w->values.begin() + (f + 1) * per, 0.0f);
    if (ParamTensor* b = m->params.Find(ParamKey(node, "bias"))) b->values[f] = 0;
    if (!bn.empty()) {
      for (const char* part : {"beta", "running_mean"}) {
        if (ParamTensor* t = m->params.Find(ParamKey(bn, part))) t->values[f] = 0;
      }
    }
  }
}

TEST(FilterPruningTest, NormsAreSumsOfAbsoluteWeightsPerFilter) {
  Model m = testing::PresetModel("cnn-bn");
  ParamTensor* w = m.params.Find(ParamKey("conv1", "weight"));
  const int64_t per = w->size() / w->dims[0];
  for (int64_t k = 0; k < per; ++k) w->values[k] = (k % 2 ? -0.5f : 0.25f);
  absl::StatusOr<std::vector<double>> norms = FilterL1Norms(m, "conv1");
  ASSERT_TRUE(norms.ok()) << norms.status();
  ASSERT_EQ(norms->size(), static_cast<size_t>(w->dims[0]));
  double want = 0;
  for (int64_t k = 0; k < per; ++k) want += k % 2 ? 0.5 : 0.25;
  EXPECT_DOUBLE_EQ((*norms)[0], want);
  EXPECT_EQ(FilterL1Norms(m, "pool1").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(FilterPruningTest, DroppingDeadFiltersKeepsTheFunctionAndShrinksTheGraph) {
  Model m = testing::PresetModel("cnn-bn");
  const int n = m.graph.nodes[m.graph.Find("conv1")].conv.out_channels;
  std::vector<int> dead;
  for (int f = 0; f < n; f += 2) dead.push_back(f);  // half of them
  KillFilters(&m, "conv1", "bn1", dead);
  absl::StatusOr<Model> pruned = PruneFilters(m, "conv1", 0.5);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  const Node& c1 = pruned->graph.nodes[pruned->graph.Find("conv1")];
  EXPECT_EQ(c1.conv.out_channels, n / 2);
  EXPECT_EQ(pruned->params.Find(ParamKey("conv2", "weight"))->dims[1], n / 2);
  EXPECT_LT(FlopsOfPruned(pruned->graph), FlopsOfPruned(m.graph));
  // The dead filters had the smallest norms, so exactly they went.
  EXPECT_LT(testing::MaxDifference(m, *pruned), testing::kMorphTolerance);
}

TEST(FilterPruningTest, HalfTheFiltersOfEveryConvRoughlyHalvesTheWorkOfCnnBn) {
  const Model m = testing::PresetModel("cnn-bn");
  FilterPruningReport report;
  absl::StatusOr<Model> pruned = PruneFiltersEverywhere(m, 0.5, &report);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(report.pruned, (std::vector<std::string>{"conv1", "conv2"}));
  EXPECT_TRUE(report.skipped.empty());
  const double ratio = static_cast<double>(FlopsOfPruned(pruned->graph)) / FlopsOfPruned(m.graph);
  RecordProperty("flops_ratio", std::to_string(ratio));
  // conv2's input and output both halve (a quarter of its work), conv1's
  // output halves, fc1's input halves.
  EXPECT_LT(ratio, 0.5);
  EXPECT_TRUE(CheckModelWeights(pruned->graph, pruned->params).ok());
}

TEST(FilterPruningTest, ChannelsFollowThroughDepthwiseConvsResidualsAndSqueezeExcite) {
  const Model m = testing::PresetModel("mobile-tiny");
  FilterPruningReport report;
  absl::StatusOr<Model> pruned = PruneFiltersEverywhere(m, 0.25, &report);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_FALSE(report.pruned.empty());
  EXPECT_TRUE(CheckModelWeights(pruned->graph, pruned->params).ok());
  EXPECT_LT(FlopsOfPruned(pruned->graph), FlopsOfPruned(m.graph));
  // Runs: the pruned graph compiles and gives finite logits.
  Model runnable = *pruned;
  const testing::ParentRun run = testing::RunParent(runnable);
  for (float v : run.logits) ASSERT_TRUE(std::isfinite(v));
}

TEST(FilterPruningTest, BadRequestsAreRefused) {
  const Model m = testing::PresetModel("cnn-bn");
  EXPECT_EQ(PruneFilters(m, "conv1", 1.0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PruneFilters(m, "nope", 0.5).status().code(), absl::StatusCode::kInvalidArgument);
  NarrowOptions o;
  o.node = "conv1";
  o.keep = {3, 1};
  EXPECT_EQ(Narrow(m, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.keep = {};
  EXPECT_EQ(Narrow(m, o).status().code(), absl::StatusCode::kInvalidArgument);
  // The graph's output cannot lose classes.
  o.node = "fc2";
  o.keep = {0, 1};
  EXPECT_EQ(Narrow(m, o).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace edgenas
