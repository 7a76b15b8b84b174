#include "search/api/search_context.h"

#include <chrono>
#include <future>
#include <thread>

#include "gtest/gtest.h"
#include "search/testing/in_memory_context.h"

namespace edgenas {
namespace {

TrialResult NoFitness(const Graph&) { return TrialResult(); }

TEST(WaitAllTest, WaitsForLateResultsAndReturnsThemInOrder) {
  InMemorySearchContext ctx(SearchSettings(), NoFitness);
  std::promise<TrialResult> late, early;
  std::vector<std::shared_future<TrialResult>> futures = {late.get_future().share(),
                                                          early.get_future().share()};
  TrialResult a, b;
  a.graph_hash = "a";
  b.graph_hash = "b";
  early.set_value(b);
  std::thread setter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    late.set_value(a);
  });
  std::vector<std::optional<TrialResult>> got = WaitAll(ctx, futures);
  setter.join();
  ASSERT_EQ(got.size(), 2u);
  ASSERT_TRUE(AllArrived(got));
  EXPECT_EQ(got[0]->graph_hash, "a");
  EXPECT_EQ(got[1]->graph_hash, "b");
}

// Entry i is always futures[i]'s: a stop leaves holes, it does not close ranks.
TEST(WaitAllTest, KeepsResultsAlignedWithTheirFuturesWhenItStops) {
  InMemorySearchContext ctx(SearchSettings(), NoFitness);
  std::promise<TrialResult> never, done, broken;
  TrialResult d;
  d.graph_hash = "done";
  done.set_value(d);
  std::vector<std::shared_future<TrialResult>> futures = {
      never.get_future().share(), done.get_future().share(), broken.get_future().share(),
      std::shared_future<TrialResult>()};
  { std::promise<TrialResult> gone = std::move(broken); }  // broken promise
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    ctx.Cancel();
  });
  std::vector<std::optional<TrialResult>> got = WaitAll(ctx, futures);
  canceller.join();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_FALSE(got[0].has_value());
  ASSERT_TRUE(got[1].has_value());
  EXPECT_EQ(got[1]->graph_hash, "done");
  EXPECT_FALSE(got[2].has_value());
  EXPECT_FALSE(got[3].has_value());
  EXPECT_FALSE(AllArrived(got));
}

}  // namespace
}  // namespace edgenas
