#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "search/testing/in_memory_context.h"
#include "search/api/search_strategy.h"

namespace edgenas {
namespace {

TEST(StrategyRegistryTest, KnowsRandom) {
  EXPECT_EQ(StrategyNames(), (std::vector<std::string>{"random", "fixed", "neat", "codeepneat", "morphism"}));
  EXPECT_TRUE(ValidateStrategyParams("random", nlohmann::json::object()).ok());

  absl::StatusOr<std::unique_ptr<SearchStrategy>> strategy = MakeStrategy("random", {{"batch", 2}});
  ASSERT_TRUE(strategy.ok()) << strategy.status();
  ASSERT_NE(*strategy, nullptr);
  SearchSettings settings;
  settings.objective = SearchSettings::Objective::kAccuracy;
  settings.max_trials = 5;
  InMemorySearchContext ctx(settings, [](const Graph&) {
    TrialResult r;
    r.ok = true;
    r.val_accuracy = 0.5;
    return r;
  });
  ASSERT_TRUE((*strategy)->Run(ctx).ok());
  EXPECT_EQ(ctx.fitness_calls(), 5);
  EXPECT_EQ(ctx.progress().size(), 3u) << "batches of 2, 2 and 1";
}

TEST(StrategyRegistryTest, RefusesUnknownNamesListingTheKnownOnes) {
  absl::StatusOr<std::unique_ptr<SearchStrategy>> strategy =
      MakeStrategy("nope", nlohmann::json::object());
  ASSERT_FALSE(strategy.ok());
  EXPECT_EQ(strategy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(strategy.status().message(), "unknown strategy 'nope' (known: random, fixed, neat, codeepneat, morphism)");
  absl::Status st = ValidateStrategyParams("nope", nlohmann::json::object());
  EXPECT_EQ(st.message(), "unknown strategy 'nope' (known: random, fixed, neat, codeepneat, morphism)");
}

// Messages start with the field's path inside the parameters, so a caller
// can put its own path in front ("strategy.params.").
TEST(StrategyRegistryTest, BadParamsNameTheField) {
  absl::Status st = ValidateStrategyParams("random", {{"batch", 100}});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "batch: must be an integer in [1, 64], got 100");
  absl::StatusOr<std::unique_ptr<SearchStrategy>> strategy =
      MakeStrategy("random", {{"space", {{"widths", nlohmann::json::array()}}}});
  ASSERT_FALSE(strategy.ok());
  EXPECT_EQ(strategy.status().message(),
            "space.widths: must be a non-empty list of integers, got []");
}

}  // namespace
}  // namespace edgenas
