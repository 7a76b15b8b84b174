#include "search/fixed/fixed_strategy.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/graph/presets.h"
#include "search/testing/in_memory_context.h"

namespace edgenas {
namespace {

TrialResult Toy(const Graph& g) {
  TrialResult r;
  r.ok = true;
  r.val_accuracy = 0.5 + 0.01 * g.nodes.size();
  r.latency_ms = 0.1 * g.nodes.size();
  return r;
}

TEST(FixedStrategyTest, EvaluatesExactlyTheNamedArchitecturesOnce) {
  nlohmann::json params = {{"presets", {"cnn-bn", "lenet5"}},
                           {"architectures", {{{"input", {1, 28, 28}},
                                               {"num_classes", 10},
                                               {"nodes", {{{"name", "f"}, {"op", "flatten"}},
                                                          {{"name", "fc"}, {"op", "dense"}, {"units", 10}}}}}}}};
  auto strategy = FixedStrategy::Make(params);
  ASSERT_TRUE(strategy.ok()) << strategy.status();
  SearchSettings settings;
  settings.max_trials = 10;
  InMemorySearchContext ctx(settings, Toy);
  ASSERT_TRUE((*strategy)->Run(ctx).ok());
  ASSERT_EQ(ctx.evaluated().size(), 3u);
  EXPECT_EQ(*CanonicalHash(ctx.evaluated()[0]), *CanonicalHash(*Preset("cnn-bn")));
  EXPECT_EQ(*CanonicalHash(ctx.evaluated()[1]), *CanonicalHash(*Preset("lenet5")));
  EXPECT_EQ(ctx.evaluated()[2].nodes.size(), 2u);
}

TEST(FixedStrategyTest, BadParamsNameTheField) {
  EXPECT_THAT(FixedStrategy::ValidateParams({{"presets", {"nope"}}}).message(),
              ::testing::HasSubstr("presets[0]"));
  EXPECT_THAT(FixedStrategy::ValidateParams({{"models", {"cnn-bn"}}}).message(),
              ::testing::HasSubstr("models: unknown field"));
  EXPECT_THAT(FixedStrategy::ValidateParams({{"architectures", {{{"input", {1, 28, 28}}}}}}).message(),
              ::testing::HasSubstr("architectures[0]"));
  EXPECT_FALSE(FixedStrategy::ValidateParams(nlohmann::json::object()).ok());
}

TEST(FixedStrategyTest, RefusesAnArchitectureForAnotherInput) {
  auto strategy = FixedStrategy::Make({{"presets", {"cnn-bn"}}});
  ASSERT_TRUE(strategy.ok());
  SearchSettings settings;
  settings.input_channels = 3, settings.input_height = 32, settings.input_width = 32;
  InMemorySearchContext ctx(settings, Toy);
  absl::Status s = (*strategy)->Run(ctx);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ctx.evaluated().empty());
}

}  // namespace
}  // namespace edgenas
