#include "search/random/random_strategy.h"

#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/graph/graph_json.h"
#include "search/testing/in_memory_context.h"
#include "search/testing/toy_fitness.h"

namespace edgenas {
namespace {

std::unique_ptr<SearchStrategy> Random(const nlohmann::json& params) {
  absl::StatusOr<std::unique_ptr<SearchStrategy>> s = RandomStrategy::Make(params);
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

std::vector<std::string> Hashes(const std::vector<TrialResult>& results) {
  std::vector<std::string> out;
  for (const TrialResult& r : results) out.push_back(r.graph_hash);
  return out;
}

// The hashes of an uninterrupted run.
std::vector<std::string> UninterruptedRun(uint64_t seed, int max_trials, int batch) {
  InMemorySearchContext ctx(ToySettings(seed, max_trials), ToyFitness);
  EXPECT_TRUE(Random({{"batch", batch}})->Run(ctx).ok());
  return Hashes(ctx.results());
}

TEST(RandomStrategyTest, EvaluatesExactlyMaxTrialsDistinctValidGraphs) {
  InMemorySearchContext ctx(ToySettings(3, 13), ToyFitness);
  ASSERT_TRUE(Random({{"batch", 4}})->Run(ctx).ok());
  EXPECT_EQ(ctx.fitness_calls(), 13);
  ASSERT_EQ(ctx.evaluated().size(), 13u);
  const std::vector<std::string> hashes = Hashes(ctx.results());
  EXPECT_EQ(std::set<std::string>(hashes.begin(), hashes.end()).size(), 13u);
  for (size_t i = 0; i < ctx.evaluated().size(); ++i) {
    const Graph& g = ctx.evaluated()[i];
    absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_LE(info->flops, 30'000'000);
    EXPECT_EQ(g.input, (Shape3{1, 28, 28}));
    EXPECT_EQ(g.num_classes, 10);
    EXPECT_TRUE(ctx.results()[i].ok);
    EXPECT_FALSE(ctx.results()[i].cached);
    EXPECT_GT(ctx.results()[i].reward, 0.4);
  }
  // Batches of 4, 4, 4 and 1, each checkpointed and reported.
  ASSERT_EQ(ctx.progress().size(), 4u);
  EXPECT_EQ(ctx.progress()[0].trials_done, 4);
  EXPECT_EQ(ctx.progress()[3].trials_done, 13);
  ASSERT_TRUE(ctx.last_checkpoint().has_value());
  EXPECT_EQ(ctx.last_checkpoint()->state["submitted"], 13);
  // The drawn hashes are not kept (they would grow a checkpoint written after
  // every batch): a resume replays them from the seed.
  EXPECT_FALSE(ctx.last_checkpoint()->state.contains("seen"));
  EXPECT_TRUE(ctx.last_checkpoint()->artifacts.empty());

  double best = 0;
  for (const TrialResult& r : ctx.results()) best = std::max(best, r.reward);
  EXPECT_EQ(ctx.last_checkpoint()->state["best_reward"].get<double>(), best);
}

TEST(RandomStrategyTest, SameSeedSameGraphsDifferentSeedDifferentGraphs) {
  InMemorySearchContext a(ToySettings(5, 12), ToyFitness), b(ToySettings(5, 12), ToyFitness),
      c(ToySettings(6, 12), ToyFitness);
  ASSERT_TRUE(Random({{"batch", 3}})->Run(a).ok());
  ASSERT_TRUE(Random({{"batch", 3}})->Run(b).ok());
  ASSERT_TRUE(Random({{"batch", 3}})->Run(c).ok());
  ASSERT_EQ(a.evaluated().size(), 12u);
  ASSERT_EQ(b.evaluated().size(), 12u);
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(GraphToJson(a.evaluated()[i]), GraphToJson(b.evaluated()[i])) << i;
  }
  const std::vector<std::string> ha = Hashes(a.results()), hc = Hashes(c.results());
  std::set<std::string> overlap(ha.begin(), ha.end());
  int shared = 0;
  for (const std::string& h : hc) shared += overlap.count(h);
  EXPECT_LT(shared, 2);
}

TEST(RandomStrategyTest, BatchSizeDoesNotChangeTheSequence) {
  // Draws do not depend on how they are grouped into batches.
  EXPECT_EQ(UninterruptedRun(9, 10, 1), UninterruptedRun(9, 10, 4));
}

TEST(RandomStrategyTest, ResumeAfterACrashGivesTheUninterruptedSequence) {
  constexpr int kTrials = 14, kBatch = 4;
  const std::vector<std::string> whole = UninterruptedRun(11, kTrials, kBatch);
  ASSERT_EQ(whole.size(), static_cast<size_t>(kTrials));
  for (int crash_after : {1, 3, 4, 5, 8, 11, 13, 14}) {
    SCOPED_TRACE(crash_after);
    InMemorySearchContext first(ToySettings(11, kTrials), ToyFitness);
    first.CrashAfter(crash_after);
    ASSERT_TRUE(Random({{"batch", kBatch}})->Run(first).ok());
    const std::vector<std::string> before = Hashes(first.results());
    EXPECT_EQ(before, std::vector<std::string>(whole.begin(), whole.begin() + crash_after));

    // The checkpoint is the last whole batch that ended before the crash.
    int resume_at = 0;
    if (first.last_checkpoint()) resume_at = first.last_checkpoint()->state["submitted"];
    EXPECT_EQ(resume_at, (crash_after - 1) / kBatch * kBatch);

    InMemorySearchContext second(ToySettings(11, kTrials), ToyFitness);
    if (first.last_checkpoint()) second.SeedCheckpoint(*first.last_checkpoint());
    second.SeedCache(first.cache());
    ASSERT_TRUE(Random({{"batch", kBatch}})->Run(second).ok());
    // A crash after the last trial leaves the budget spent: nothing to redo.
    const int redo_from = crash_after == kTrials ? kTrials : resume_at;
    EXPECT_EQ(Hashes(second.results()),
              std::vector<std::string>(whole.begin() + redo_from, whole.end()));
    // What the crashed run finished is served from the cache, not redone.
    for (size_t i = 0; i < second.results().size(); ++i) {
      EXPECT_EQ(second.results()[i].cached, redo_from + static_cast<int>(i) < crash_after) << i;
    }
    EXPECT_EQ(first.fitness_calls() + second.fitness_calls(), kTrials);
  }
}

TEST(RandomStrategyTest, AStopMidBatchIsNotCheckpointed) {
  // Unlike a crash, a cancelled job still writes its checkpoints: the batch
  // the stop cut short must not be among them, or a resumed job would skip
  // the graphs that were never evaluated.
  constexpr int kTrials = 12, kBatch = 4;
  const std::vector<std::string> whole = UninterruptedRun(13, kTrials, kBatch);
  InMemorySearchContext* cancel_me = nullptr;
  int calls = 0;
  InMemorySearchContext first(ToySettings(13, kTrials), [&](const Graph& g) {
    if (++calls == 6) cancel_me->Cancel();
    return ToyFitness(g);
  });
  cancel_me = &first;
  ASSERT_TRUE(Random({{"batch", kBatch}})->Run(first).ok());
  EXPECT_EQ(Hashes(first.results()), std::vector<std::string>(whole.begin(), whole.begin() + 6));
  ASSERT_TRUE(first.last_checkpoint().has_value());
  EXPECT_EQ(first.last_checkpoint()->state["submitted"], 4);
  EXPECT_EQ(first.progress().size(), 1u);

  InMemorySearchContext second(ToySettings(13, kTrials), ToyFitness);
  second.SeedCheckpoint(*first.last_checkpoint());
  second.SeedCache(first.cache());
  ASSERT_TRUE(Random({{"batch", kBatch}})->Run(second).ok());
  EXPECT_EQ(Hashes(second.results()), std::vector<std::string>(whole.begin() + 4, whole.end()));
  EXPECT_EQ(second.fitness_calls(), kTrials - 6);
}

TEST(RandomStrategyTest, RepeatedCrashesStillEvaluateTheUninterruptedSequence) {
  constexpr int kTrials = 17, kBatch = 3;
  const std::vector<std::string> whole = UninterruptedRun(2, kTrials, kBatch);
  std::vector<std::string> fresh;  // evaluations that reached the fitness, in order
  std::optional<StrategyCheckpoint> checkpoint;
  std::map<std::string, TrialResult> cache;
  for (int life = 0; life < 20 && static_cast<int>(fresh.size()) < kTrials; ++life) {
    InMemorySearchContext ctx(ToySettings(2, kTrials), ToyFitness);
    if (checkpoint) ctx.SeedCheckpoint(*checkpoint);
    ctx.SeedCache(cache);
    ctx.CrashAfter(2);
    ASSERT_TRUE(Random({{"batch", kBatch}})->Run(ctx).ok());
    for (const TrialResult& r : ctx.results()) {
      if (!r.cached) fresh.push_back(r.graph_hash);
    }
    checkpoint = ctx.last_checkpoint();
    cache = ctx.cache();
  }
  EXPECT_EQ(fresh, whole);
}

TEST(RandomStrategyTest, TheCheckpointDoesNotGrowWithTheJob) {
  InMemorySearchContext few(ToySettings(3, 4), ToyFitness), many(ToySettings(3, 60), ToyFitness);
  ASSERT_TRUE(Random({{"batch", 4}})->Run(few).ok());
  ASSERT_TRUE(Random({{"batch", 4}})->Run(many).ok());
  ASSERT_TRUE(few.last_checkpoint() && many.last_checkpoint());
  // Same fields; only the numbers (and the generator state) differ.
  EXPECT_LT(many.last_checkpoint()->state.dump().size(),
            few.last_checkpoint()->state.dump().size() + 64);
  EXPECT_TRUE(many.last_checkpoint()->artifacts.empty());
}

// One block of one width: 4 dw_separable + 24 mbconv + 6 fire variants, so
// the generator draws the same graphs again and again.
const nlohmann::json kTinySpace = {
    {"min_blocks", 1}, {"max_blocks", 1}, {"widths", {16}}, {"stem_widths", {8}}};

TEST(RandomStrategyTest, AResumeInATinySpaceNeverDrawsAGraphTwice) {
  // Repeats are frequent here, so a resumed run that forgot what was drawn
  // before the checkpoint would evaluate some graphs twice.
  constexpr int kTrials = 30, kBatch = 5;
  const nlohmann::json params = {{"batch", kBatch}, {"space", kTinySpace}};
  InMemorySearchContext whole(ToySettings(8, kTrials), ToyFitness);
  ASSERT_TRUE(Random(params)->Run(whole).ok());
  ASSERT_EQ(whole.results().size(), static_cast<size_t>(kTrials));
  for (int crash_after : {6, 17, 26}) {
    SCOPED_TRACE(crash_after);
    InMemorySearchContext first(ToySettings(8, kTrials), ToyFitness);
    first.CrashAfter(crash_after);
    ASSERT_TRUE(Random(params)->Run(first).ok());
    ASSERT_TRUE(first.last_checkpoint().has_value());
    InMemorySearchContext second(ToySettings(8, kTrials), ToyFitness);
    second.SeedCheckpoint(*first.last_checkpoint());
    ASSERT_TRUE(Random(params)->Run(second).ok());
    const int resumed_at = first.last_checkpoint()->state["submitted"];
    std::vector<std::string> all = Hashes(whole.results());
    std::vector<std::string> want(all.begin() + resumed_at, all.end());
    EXPECT_EQ(Hashes(second.results()), want);
  }
}

TEST(RandomStrategyTest, ACheckpointThatListsTheDrawnHashesStillResumes) {
  // Checkpoints written before the hashes were replayed from the seed.
  constexpr int kTrials = 30, kBatch = 5;
  const nlohmann::json params = {{"batch", kBatch}, {"space", kTinySpace}};
  InMemorySearchContext whole(ToySettings(8, kTrials), ToyFitness);
  ASSERT_TRUE(Random(params)->Run(whole).ok());
  const std::vector<std::string> all = Hashes(whole.results());

  InMemorySearchContext first(ToySettings(8, kTrials), ToyFitness);
  first.CrashAfter(12);
  ASSERT_TRUE(Random(params)->Run(first).ok());
  nlohmann::json old = first.last_checkpoint()->state;
  ASSERT_EQ(old["submitted"], 10);
  old["seen"] = std::vector<std::string>(all.begin(), all.begin() + 10);
  InMemorySearchContext second(ToySettings(8, kTrials), ToyFitness);
  second.SeedCheckpoint(old);
  ASSERT_TRUE(Random(params)->Run(second).ok());
  EXPECT_EQ(Hashes(second.results()), std::vector<std::string>(all.begin() + 10, all.end()));
}

TEST(RandomStrategyTest, TakesTheInputShapeFromTheJob) {
  SearchSettings s = ToySettings(1, 5);
  s.input_channels = 3;
  s.input_height = s.input_width = 32;
  s.num_classes = 100;
  InMemorySearchContext ctx(s, ToyFitness);
  ASSERT_TRUE(Random({{"batch", 5}})->Run(ctx).ok());
  ASSERT_EQ(ctx.evaluated().size(), 5u);
  for (const Graph& g : ctx.evaluated()) {
    EXPECT_EQ(g.input, (Shape3{3, 32, 32}));
    EXPECT_EQ(g.num_classes, 100);
  }

  // A space that names a different input than the job's is refused.
  InMemorySearchContext other(ToySettings(1, 5), ToyFitness);
  absl::Status st = Random({{"space", {{"input_height", 32}}}})->Run(other);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("space.input_height: 32 differs from the job's 28"),
            std::string::npos)
      << st;
  EXPECT_EQ(other.fitness_calls(), 0);
}

TEST(RandomStrategyTest, StopsWhenTheSpaceIsExhausted) {
  const nlohmann::json params = {{"batch", 8}, {"space", kTinySpace}};
  InMemorySearchContext ctx(ToySettings(4, 100), ToyFitness);
  ASSERT_TRUE(Random(params)->Run(ctx).ok());
  EXPECT_EQ(ctx.fitness_calls(), 34);
  ASSERT_FALSE(ctx.progress().empty());
  EXPECT_NE(ctx.progress().back().message.find("every architecture"), std::string::npos);
}

TEST(RandomStrategyTest, RefusesACorruptCheckpoint) {
  InMemorySearchContext ctx(ToySettings(1, 5), ToyFitness);
  ctx.SeedCheckpoint({{"rng", "not a state"}, {"submitted", 0}, {"seen", nlohmann::json::array()}});
  absl::Status st = Random(nlohmann::json::object())->Run(ctx);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("checkpoint.rng"), std::string::npos) << st;

  InMemorySearchContext missing(ToySettings(1, 5), ToyFitness);
  missing.SeedCheckpoint({{"rng", "1"}, {"seen", nlohmann::json::array()}});
  st = Random(nlohmann::json::object())->Run(missing);
  EXPECT_NE(st.message().find("checkpoint.submitted: missing"), std::string::npos) << st;
  EXPECT_EQ(missing.fitness_calls(), 0);
}

// The sequence a seed draws is part of the contract: a job resumed by a
// newer edgenas, or compared with an older run, draws the same graphs.
// Pinned on 769c4e1 (the default space, and the quickstart's e2e space).
TEST(RandomStrategyTest, PinnedSequenceOfTheFirstDraws) {
  const std::vector<std::string> default_space = UninterruptedRun(1, 6, 2);
  const std::vector<std::string> want_default = {
      "0af7603acc6643f1589725bd93828224", "bec83eb34095e85511dc2666ec8a19c7",
      "70ff44340b2cc004268b044713b92dbc", "0b5e2f2b3c62b0552050164b2887222a",
      "183243f36c2a36b9eb29b4b0c7e91b69", "9bcd2896068fb053007fa0bef3760109"};
  EXPECT_EQ(default_space, want_default);

  InMemorySearchContext small(ToySettings(7, 4), ToyFitness);
  ASSERT_TRUE(Random({{"batch", 2}, {"space", {{"max_mflops", 5}}}})->Run(small).ok());
  const std::vector<std::string> want_small = {
      "fc4e415c07aa9f5623865a184ad3a31f", "58ac11c24eade61f9b816708ebd35655",
      "d4c7fb5e62a610835f40dc662b0d310c", "11ac2a4196a671f9e22999644d80e1b0"};
  EXPECT_EQ(Hashes(small.results()), want_small);
}

TEST(RandomStrategyTest, ACheckpointTheContextCannotReadStopsTheJobWithTheError) {
  InMemorySearchContext first(ToySettings(8, 20), ToyFitness);
  first.CrashAfter(7);
  ASSERT_TRUE(Random({{"batch", 5}})->Run(first).ok());
  InMemorySearchContext unreadable(ToySettings(8, 20), ToyFitness);
  unreadable.SeedCheckpoint(*first.last_checkpoint());
  unreadable.CorruptCheckpoint();
  absl::Status st = Random({{"batch", 5}})->Run(unreadable);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_EQ(unreadable.fitness_calls(), 0) << "a broken checkpoint is no fresh start";
}

TEST(RandomStrategyTest, BadParamsAreRefusedNamingTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {"[]", "parameters: must be a JSON object"},
      {R"({"batch": 0})", "batch: must be an integer in [1, 64], got 0"},
      {R"({"batch": 65})", "batch: must be an integer in [1, 64], got 65"},
      {R"({"batch": "4"})", "batch: must be an integer"},
      {R"({"bacth": 4})", "bacth: unknown field (known: batch, space)"},
      {R"({"space": 5})", "space: must be a JSON object"},
      {R"({"space": {"widths": [16, "x"]}})", "space.widths[1]: must be an integer"},
      {R"({"space": {"max_mflops": -1}})", "space.max_mflops: must be a number"},
      {R"({"space": {"depth": 3}})", "space.depth: unknown field"},
  };
  for (const auto& [text, want] : cases) {
    absl::Status st = RandomStrategy::ValidateParams(nlohmann::json::parse(text));
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(st.message().find(want), std::string::npos)
        << "want '" << want << "' in: " << st.message();
    EXPECT_FALSE(RandomStrategy::Make(nlohmann::json::parse(text)).ok()) << text;
  }
  EXPECT_TRUE(RandomStrategy::ValidateParams(nlohmann::json::object()).ok());
  EXPECT_TRUE(RandomStrategy::ValidateParams({{"batch", 64}, {"space", {{"max_mflops", 5}}}}).ok());
}

}  // namespace
}  // namespace edgenas
