#include "search/testing/in_memory_context.h"

#include <chrono>
#include <cmath>
#include <thread>

#include "gtest/gtest.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/blocks.h"
#include "runtime/graph/graph_hash.h"

namespace edgenas {
namespace {

// conv(width) -> global pool -> dense 10 on 1x8x8: a distinct graph per width.
Graph Net(int width) {
  Graph g;
  g.input = Shape3{1, 8, 8};
  g.num_classes = 10;
  GraphBuilder b(&g);
  std::string x = b.Conv("c", kInputName, width, 3);
  x = b.Op("p", OpKind::kGlobalAvgPool, {x});
  b.Dense("fc", x, 10);
  return g;
}

// accuracy = width / 100, latency = width ms: a fitness the test can predict.
TrialResult WidthFitness(const Graph& g) {
  TrialResult r;
  r.ok = true;
  r.val_accuracy = g.nodes[0].conv.out_channels / 100.0;
  r.latency_ms = g.nodes[0].conv.out_channels;
  return r;
}

// The results that arrived, in order.
std::vector<TrialResult> Arrived(SearchContext& ctx,
                                 const std::vector<std::shared_future<TrialResult>>& futures) {
  std::vector<TrialResult> out;
  for (std::optional<TrialResult>& r : WaitAll(ctx, futures))
    if (r) out.push_back(std::move(*r));
  return out;
}

SearchSettings Settings(SearchSettings::Objective objective, int max_trials = 10) {
  SearchSettings s;
  s.objective = objective;
  s.mnas = MnasObjective::Soft(8.0);
  s.max_trials = max_trials;
  return s;
}

TEST(InMemorySearchContextTest, EvaluatesOnceAndServesRepeatsFromTheCache) {
  InMemorySearchContext ctx(Settings(SearchSettings::Objective::kAccuracy), WidthFitness);
  std::vector<TrialResult> first = Arrived(ctx, ctx.Evaluate({Net(4), Net(8), Net(4)}));
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(ctx.fitness_calls(), 2);
  EXPECT_FALSE(first[0].cached);
  EXPECT_FALSE(first[1].cached);
  EXPECT_TRUE(first[2].cached);
  EXPECT_EQ(first[2].graph_hash, first[0].graph_hash);
  EXPECT_EQ(first[0].graph_hash, *CanonicalHash(Net(4)));
  EXPECT_NE(first[0].graph_hash, first[1].graph_hash);

  std::vector<TrialResult> again = Arrived(ctx, ctx.Evaluate({Net(8)}));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].cached);
  EXPECT_EQ(ctx.fitness_calls(), 2);
  EXPECT_EQ(ctx.evaluated().size(), 4u);
  EXPECT_EQ(ctx.cache().size(), 2u);

  // Params and flops come from the graph when the fitness leaves them 0:
  // conv 1->4 3x3 with bias on 8x8, dense 4->10.
  EXPECT_EQ(first[0].params, 4 * 9 + 4 + 4 * 10 + 10);
  EXPECT_EQ(first[0].flops, 8 * 8 * 4 * 9 + 4 * 10);
}

TEST(InMemorySearchContextTest, RewardFollowsTheObjective) {
  InMemorySearchContext acc(Settings(SearchSettings::Objective::kAccuracy), WidthFitness);
  EXPECT_DOUBLE_EQ(Arrived(acc, acc.Evaluate({Net(16)}))[0].reward, 0.16);

  InMemorySearchContext lat(Settings(SearchSettings::Objective::kLatency), WidthFitness);
  EXPECT_DOUBLE_EQ(Arrived(lat, lat.Evaluate({Net(16)}))[0].reward, -16.0);

  // Target 8 ms, 16 ms measured: 0.16 * 2^-0.07.
  InMemorySearchContext mnas(Settings(SearchSettings::Objective::kMnas), WidthFitness);
  EXPECT_DOUBLE_EQ(Arrived(mnas, mnas.Evaluate({Net(16)}))[0].reward, 0.16 * std::pow(2.0, -0.07));

  // A reward the fitness sets is kept.
  InMemorySearchContext own(Settings(SearchSettings::Objective::kMnas), [](const Graph& g) {
    TrialResult r = WidthFitness(g);
    r.reward = 0.5;
    return r;
  });
  EXPECT_EQ(Arrived(own, own.Evaluate({Net(16)}))[0].reward, 0.5);

  // No latency: the MnasNet reward cannot be computed and the trial fails.
  InMemorySearchContext broken(Settings(SearchSettings::Objective::kMnas), [](const Graph& g) {
    TrialResult r = WidthFitness(g);
    r.latency_ms = 0;
    return r;
  });
  TrialResult failed = Arrived(broken, broken.Evaluate({Net(16)}))[0];
  EXPECT_FALSE(failed.ok);
  EXPECT_NE(failed.error.find("latency_ms"), std::string::npos) << failed.error;
}

TEST(InMemorySearchContextTest, InvalidGraphsFailWithoutReachingTheFitness) {
  InMemorySearchContext ctx(Settings(SearchSettings::Objective::kAccuracy), WidthFitness);
  Graph bad = Net(4);
  bad.nodes[1].inputs = {"nowhere"};
  std::vector<TrialResult> r = Arrived(ctx, ctx.Evaluate({bad}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].ok);
  EXPECT_NE(r[0].error.find("nowhere"), std::string::npos) << r[0].error;
  EXPECT_EQ(ctx.fitness_calls(), 0);
  EXPECT_TRUE(ctx.evaluated().empty());
}

TEST(InMemorySearchContextTest, StopsAfterMaxTrialsDistinctEvaluations) {
  InMemorySearchContext ctx(Settings(SearchSettings::Objective::kAccuracy, 3), WidthFitness);
  WaitAll(ctx, ctx.Evaluate({Net(2), Net(3), Net(2)}));
  EXPECT_FALSE(ctx.ShouldStop()) << "a cached repeat is not a new trial";
  WaitAll(ctx, ctx.Evaluate({Net(4)}));
  EXPECT_TRUE(ctx.ShouldStop());
  std::vector<std::shared_future<TrialResult>> late = ctx.Evaluate({Net(5), Net(2)});
  EXPECT_EQ(late[0].wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "a stopped job starts nothing new";
  ASSERT_EQ(late[1].wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_TRUE(late[1].get().cached) << "cached results are still served";
  EXPECT_EQ(Arrived(ctx, late).size(), 1u);
  EXPECT_EQ(ctx.fitness_calls(), 3);
}

TEST(InMemorySearchContextTest, AWallClockBudgetAppliesOnlyWhenPositive) {
  SearchSettings s = Settings(SearchSettings::Objective::kAccuracy);
  s.max_minutes = 0;
  InMemorySearchContext unlimited(s, WidthFitness);
  EXPECT_FALSE(unlimited.ShouldStop());
  s.max_minutes = 1e-6;  // 60 microseconds
  InMemorySearchContext brief(s, WidthFitness);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(brief.ShouldStop());
}

TEST(InMemorySearchContextTest, ACrashLosesTheRestOfTheBatchAndLaterWrites) {
  InMemorySearchContext ctx(Settings(SearchSettings::Objective::kAccuracy), WidthFitness);
  ASSERT_TRUE(ctx.Checkpoint(nlohmann::json{{"step", 1}}).ok());
  ctx.CrashAfter(2);
  std::vector<std::shared_future<TrialResult>> futures =
      ctx.Evaluate({Net(2), Net(3), Net(4), Net(5)});
  EXPECT_TRUE(ctx.crashed());
  EXPECT_TRUE(ctx.ShouldStop());
  ASSERT_EQ(futures.size(), 4u);
  EXPECT_EQ(futures[1].wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(futures[2].wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  EXPECT_EQ(Arrived(ctx, futures).size(), 2u);
  EXPECT_EQ(ctx.fitness_calls(), 2);

  ASSERT_TRUE(ctx.Checkpoint(nlohmann::json{{"step", 2}}).ok());
  ctx.Progress({2, "lost"});
  ASSERT_TRUE(ctx.last_checkpoint().has_value());
  EXPECT_EQ(ctx.last_checkpoint()->state["step"], 1);
  EXPECT_TRUE(ctx.progress().empty());

  // A successor seeded from it serves the crashed one's results as cached
  // and counts them against the budget.
  InMemorySearchContext next(Settings(SearchSettings::Objective::kAccuracy, 3), WidthFitness);
  next.SeedCache(ctx.cache());
  next.SeedCheckpoint(*ctx.last_checkpoint());
  ASSERT_TRUE(next.Restore().ok());
  EXPECT_EQ((*next.Restore())->state["step"], 1);
  std::vector<TrialResult> r = Arrived(next, next.Evaluate({Net(3), Net(4)}));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].cached);
  EXPECT_FALSE(r[1].cached);
  EXPECT_EQ(next.fitness_calls(), 1);
  EXPECT_TRUE(next.ShouldStop());
}

TEST(InMemorySearchContextTest, LatencyIsKnownForEvaluatedGraphsOnTheJobsDevice) {
  InMemorySearchContext ctx(Settings(SearchSettings::Objective::kMnas), WidthFitness);
  WaitAll(ctx, ctx.Evaluate({Net(6)}));
  absl::StatusOr<double> known = ctx.Latency(Net(6), "host-cpu");
  ASSERT_TRUE(known.ok()) << known.status();
  EXPECT_EQ(*known, 6.0);
  EXPECT_EQ(ctx.Latency(Net(7), "host-cpu").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ctx.Latency(Net(6), "rpi4").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace edgenas
