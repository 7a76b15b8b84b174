#include <cmath>
#include <random>
#include <set>

#include "gtest/gtest.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"
#include "search/deepneat/deepneat_strategy.h"
#include "search/deepneat/layer_dag.h"
#include "search/deepneat/layer_ops.h"
#include "search/testing/in_memory_context.h"
#include "search/testing/toy_fitness.h"

namespace edgenas {
namespace deepneat {
namespace {

LayerGene L(LayerType type, int width = 16, int stride = 1) {
  LayerGene g;
  g.type = type;
  g.width = width;
  g.stride = stride;
  g.squeeze_ratio = 0.25;
  return g.Canonical();
}

// input -> 2 -> output, plus whatever `extra` adds.
LayerGenome Chain(const std::vector<LayerGene>& layers) {
  LayerGenome g = BareDag<LayerGene>();
  g.links[0].enabled = false;
  int prev = kDagInput;
  int64_t innovation = 1;
  for (size_t i = 0; i < layers.size(); ++i) {
    const int id = static_cast<int>(i) + 2;
    g.nodes.push_back({id, layers[i]});
    g.links.push_back({prev, id, true, innovation++});
    prev = id;
  }
  g.links.push_back({prev, kDagOutput, true, innovation++});
  return g;
}

GraphInfo Analyzed(const Graph& graph) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  EXPECT_TRUE(info.ok()) << info.status();
  return info.ok() ? *info : GraphInfo();
}

TEST(LayerGeneTest, JsonKeepsOnlyTheFieldsATypeReads) {
  LayerGene m = L(LayerType::kMBConv, 32, 2);
  m.expand = 6;
  m.se_ratio = 0.25;
  m.kernel = 5;
  absl::StatusOr<LayerGene> back = LayerGene::FromJson(m.ToJson(), "g");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
  EXPECT_EQ(L(LayerType::kMaxPool).ToJson(), (nlohmann::json{{"type", "max_pool"}, {"stride", 1}}));
  // A pool has no width: a width is refused, by name.
  absl::StatusOr<LayerGene> bad =
      LayerGene::FromJson({{"type", "max_pool"}, {"stride", 2}, {"width", 16}}, "g");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("g.width"), std::string::npos) << bad.status();
  EXPECT_FALSE(LayerGene::FromJson({{"type", "conv"}, {"width", 16}, {"kernel", 4}}, "g").ok());
  EXPECT_FALSE(LayerGene::FromJson({{"type", "lstm"}}, "g").ok());
}

TEST(LayerGeneTest, AMutationChangesOneThingTheChoicesAllow) {
  LayerChoices choices;
  std::mt19937_64 rng(4);
  for (int i = 0; i < 200; ++i) {
    const LayerGene a = RandomLayer(choices, rng);
    const LayerGene b = MutateLayer(a, choices, rng);
    EXPECT_NE(a, b);
    EXPECT_EQ(b, b.Canonical());
    EXPECT_NE(std::find(choices.types.begin(), choices.types.end(), b.type), choices.types.end());
    EXPECT_GT(LayerDistance(a, b), 0);
    EXPECT_EQ(LayerDistance(a, a), 0);
  }
}

TEST(LayerDagTest, DifferentMapSizesArePooledToTheSmallestAndConcatenated) {
  // input -> conv/2 (14x14) -> output, and input (28x28) -> output directly:
  // the output merges a 16x14x14 and a 1x28x28 map into 17x14x14.
  LayerGenome g = Chain({L(LayerType::kConv, 16, 2)});
  g.links[0].enabled = true;  // input -> output
  const Graph graph = DecodeNetwork(g, {1, 28, 28}, 10);
  const GraphInfo info = Analyzed(graph);
  const int concat = graph.Find("n1/in/concat");
  ASSERT_GE(concat, 0);
  EXPECT_EQ(info.nodes[concat].shape.channels, 17);
  EXPECT_EQ(info.nodes[concat].shape.height, 14);
  // Odd sizes too: 7 -> 4 by a window of 4 at stride 1.
  LayerGenome odd = Chain({L(LayerType::kConv, 8, 2), L(LayerType::kConv, 8, 2), L(LayerType::kConv, 8, 2)});
  odd.links.push_back({3, kDagOutput, true, 99});  // the 7x7 map straight to the output
  const GraphInfo odd_info = Analyzed(DecodeNetwork(odd, {1, 28, 28}, 10));
  EXPECT_GT(odd_info.flops, 0);
}

TEST(LayerDagTest, LayersAfterADenseLayerAndUnreachableOutputsStillDecode) {
  // dense, then a conv (a dense of its width on the flat input), then a pool
  // (passes through), merged with a spatial branch (pooled and flattened).
  LayerGenome g = Chain({L(LayerType::kConv, 16), L(LayerType::kDense, 32), L(LayerType::kConv, 24),
                         L(LayerType::kMaxPool, 0, 2)});
  g.links.push_back({2, kDagOutput, true, 50});
  const Graph graph = DecodeNetwork(g, {1, 28, 28}, 10);
  const GraphInfo info = Analyzed(graph);
  EXPECT_GE(graph.Find("n4/dense"), 0);  // the conv after the dense layer
  EXPECT_GE(graph.Find("n1/in/concat"), 0);
  (void)info;
  // No enabled path to the output: the head alone, on the input.
  LayerGenome cut = Chain({L(LayerType::kConv, 16)});
  cut.links.back().enabled = false;
  const Graph head = DecodeNetwork(cut, {1, 28, 28}, 10);
  Analyzed(head);
  EXPECT_EQ(head.nodes.size(), 2u);  // pool, classifier
  // Stride 2 stops below 8x8: of five downsampling layers on 28x28 two
  // downsample (28 -> 14 -> 7), the rest run at stride 1.
  LayerGenome deep = Chain({L(LayerType::kConv, 8, 2), L(LayerType::kConv, 8, 2), L(LayerType::kConv, 8, 2),
                            L(LayerType::kConv, 8, 2), L(LayerType::kConv, 8, 2)});
  const Graph deep_graph = DecodeNetwork(deep, {1, 28, 28}, 10);
  const GraphInfo deep_info = Analyzed(deep_graph);
  EXPECT_EQ(deep_info.nodes[deep_graph.Find("pool")].shape.height, 1);
  EXPECT_EQ(deep_info.nodes[deep_graph.Find("n6/act")].shape.height, 7);
}

TEST(LayerOpsTest, EveryGenomeOfALongRandomEvolutionDecodesToAValidGraph) {
  DeepNeatConfig config;
  config.population_size = 24;
  config.add_node_rate = 0.4;
  config.add_link_rate = 0.3;
  config.layers.types.assign(std::begin(kAllLayerTypes), std::end(kAllLayerTypes));
  LayerPopulation pop = FirstLayerPopulation(config, 9);
  std::mt19937_64 fitness(1);
  int decoded = 0, multi_input = 0;
  for (int gen = 0; gen < 40; ++gen) {
    for (size_t i = 0; i < pop.genomes().size(); ++i) {
      const Graph graph = DecodeNetwork(pop.genomes()[i], {3, 32, 32}, 10);
      absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
      ASSERT_TRUE(info.ok()) << "generation " << gen << ": " << info.status() << "\n"
                             << pop.genomes()[i].ToJson().dump();
      ++decoded;
      for (const Node& n : graph.nodes) multi_input += n.op == OpKind::kConcat;
      pop.SetFitness(i, std::uniform_real_distribution<double>(0, 1)(fitness));
    }
    pop.Epoch();
    ASSERT_EQ(pop.genomes().size(), 24u);
  }
  EXPECT_EQ(decoded, 40 * 24);
  EXPECT_GT(multi_input, 0);  // the evolution did make merges
  // The population round-trips through JSON to the same next generation.
  absl::StatusOr<LayerPopulation> copy = LayerPopulation::FromJson(nlohmann::json::parse(pop.ToJson().dump()));
  ASSERT_TRUE(copy.ok()) << copy.status();
  for (LayerPopulation* p : {&pop, &*copy}) {
    for (size_t i = 0; i < p->genomes().size(); ++i) p->SetFitness(i, 0.1 * (i % 7));
    p->Epoch();
  }
  EXPECT_EQ(copy->ToJson(), pop.ToJson());
}

std::unique_ptr<SearchStrategy> Neat(const nlohmann::json& params) {
  absl::StatusOr<std::unique_ptr<SearchStrategy>> s = DeepNeatStrategy::Make(params);
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

TEST(DeepNeatStrategyTest, EvolvesGenerationsWithProgressAndCheckpoints) {
  InMemorySearchContext ctx(ToySettings(5, 60), ToyFitness);
  ASSERT_TRUE(Neat({{"population", {{"population_size", 8}}}})->Run(ctx).ok());
  // Generations of 8 until 60 distinct evaluations; champions are cached.
  EXPECT_GE(ctx.progress().size(), 7u);
  EXPECT_NE(ctx.progress().front().message.find("generation 0"), std::string::npos);
  EXPECT_NE(ctx.progress().front().message.find("species"), std::string::npos);
  ASSERT_TRUE(ctx.last_checkpoint().has_value());
  EXPECT_EQ(ctx.last_checkpoint()->artifacts.count("population"), 1u);
  // The search found better networks than its first generation's best.
  double first = 0, best = 0;
  for (size_t i = 0; i < ctx.results().size(); ++i) {
    if (i < 8) first = std::max(first, ctx.results()[i].reward);
    best = std::max(best, ctx.results()[i].reward);
  }
  EXPECT_GT(best, first);
}

TEST(DeepNeatStrategyTest, AResumedRunContinuesAsIfNeverStopped) {
  const nlohmann::json params = {{"population", {{"population_size", 6}}}};
  InMemorySearchContext whole(ToySettings(5, 40), ToyFitness);
  ASSERT_TRUE(Neat(params)->Run(whole).ok());

  InMemorySearchContext crashed(ToySettings(5, 40), ToyFitness);
  crashed.CrashAfter(15);
  ASSERT_TRUE(Neat(params)->Run(crashed).ok());
  ASSERT_TRUE(crashed.last_checkpoint().has_value());
  InMemorySearchContext resumed(ToySettings(5, 40), ToyFitness);
  resumed.SeedCheckpoint(*crashed.last_checkpoint());
  resumed.SeedCache(crashed.cache());
  ASSERT_TRUE(Neat(params)->Run(resumed).ok());
  std::set<std::string> a, b;
  for (const TrialResult& r : whole.results()) a.insert(r.graph_hash);
  for (const TrialResult& r : resumed.results()) b.insert(r.graph_hash);
  for (const TrialResult& r : crashed.results()) b.insert(r.graph_hash);
  EXPECT_EQ(a, b);
}

TEST(DeepNeatStrategyTest, BadParametersAreRefusedByName) {
  const auto message = [](const nlohmann::json& j) {
    return std::string(DeepNeatStrategy::ValidateParams(j).message());
  };
  EXPECT_TRUE(DeepNeatStrategy::ValidateParams(nlohmann::json::object()).ok());
  EXPECT_NE(message({{"population", {{"add_node_rate", 3}}}}).find("population.add_node_rate"),
            std::string::npos);
  EXPECT_NE(message({{"population", {{"layers", {{"widths", {16, 0}}}}}}}).find("population.layers.widths[1]"),
            std::string::npos);
  EXPECT_NE(message({{"population", {{"layers", {{"types", {"conv", "lstm"}}}}}}}).find("population.layers.types[1]"),
            std::string::npos);
  EXPECT_NE(message({{"max_mflops", -1}}).find("max_mflops"), std::string::npos);
  EXPECT_NE(message({{"populaton", {}}}).find("populaton"), std::string::npos);
}

}  // namespace
}  // namespace deepneat
}  // namespace edgenas
