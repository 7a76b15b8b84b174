#include <cmath>
#include <regex>
#include <set>

#include "gtest/gtest.h"
#include "runtime/graph/analyze.h"
#include "search/codeepneat/assembly.h"
#include "search/codeepneat/blueprint.h"
#include "search/codeepneat/codeepneat_strategy.h"
#include "search/codeepneat/genome_dot.h"
#include "search/deepneat/layer_ops.h"
#include "search/testing/in_memory_context.h"
#include "search/testing/toy_fitness.h"

namespace edgenas {
namespace codeepneat {
namespace {

using deepneat::kDagInput;
using deepneat::kDagOutput;

// input -> a -> b -> output, the nodes pointing to species sa and sb.
Blueprint TwoNodes(int sa, int sb) {
  Blueprint b;
  b.graph = deepneat::BareDag<ModuleRef>();
  b.graph.links[0].enabled = false;
  b.graph.nodes.push_back({2, ModuleRef{sa}});
  b.graph.nodes.push_back({3, ModuleRef{sb}});
  b.graph.links.push_back({kDagInput, 2, true, 1});
  b.graph.links.push_back({2, 3, true, 2});
  b.graph.links.push_back({3, kDagOutput, true, 3});
  return b;
}

std::vector<deepneat::LayerGenome> SomeModules(int n) {
  deepneat::DeepNeatConfig config;
  config.population_size = n;
  config.initial_layers = 2;
  std::mt19937_64 rng(3);
  return deepneat::LayerOps(config).FirstGeneration(rng);
}

// The module species and module indices named in a graph's node names.
std::set<std::pair<int, int>> ModulesNamed(const Graph& g) {
  std::set<std::pair<int, int>> out;
  const std::regex re("^b[0-9]+_s([0-9]+)_m([0-9]+)/");
  for (const Node& n : g.nodes) {
    std::smatch m;
    if (std::regex_search(n.name, m, re)) out.insert({std::stoi(m[1]), std::stoi(m[2])});
  }
  return out;
}

TEST(AssemblyTest, NodesOfOneSpeciesShareTheirModuleAndTheGraphIsValid) {
  const std::vector<deepneat::LayerGenome> modules = SomeModules(4);
  const Graph same = Assemble(TwoNodes(7, 7), {{7, 2}}, modules, {1, 28, 28}, 10);
  ASSERT_TRUE(AnalyzeGraph(same).ok()) << AnalyzeGraph(same).status();
  EXPECT_EQ(ModulesNamed(same), (std::set<std::pair<int, int>>{{7, 2}}));
  // Both blueprint nodes built module 2's layers.
  int copies = 0;
  for (const Node& n : same.nodes) copies += n.name.rfind("b2_s7_m2/", 0) == 0 || n.name.rfind("b3_s7_m2/", 0) == 0;
  EXPECT_GT(copies, 2);
  const Graph two = Assemble(TwoNodes(7, 9), {{7, 0}, {9, 3}}, modules, {1, 28, 28}, 10);
  ASSERT_TRUE(AnalyzeGraph(two).ok());
  EXPECT_EQ(ModulesNamed(two), (std::set<std::pair<int, int>>{{7, 0}, {9, 3}}));
  EXPECT_EQ(SpeciesUsed(TwoNodes(7, 9)), (std::set<int>{7, 9}));
}

TEST(BlueprintTest, JsonRoundTripsAndTrainingGenesReachTheSettings) {
  Blueprint b = TwoNodes(1, 2);
  b.training.learning_rate = 0.031;
  b.training.batch_size = 32;
  b.training.pad_crop = 2;
  b.training.flip = true;
  b.fitness = 0.5;
  absl::StatusOr<Blueprint> back = Blueprint::FromJson(nlohmann::json::parse(b.ToJson().dump()));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, b);
  EXPECT_EQ(back->fitness, 0.5);
  const TrainingSettings t = b.training.Apply(TrainingSettings());
  EXPECT_EQ(t.learning_rate, 0.031);
  EXPECT_EQ(t.batch_size, 32);
  EXPECT_EQ(t.augment_pad_crop, 2);
  EXPECT_TRUE(t.augment_flip);
  EXPECT_EQ(t.epochs, TrainingSettings().epochs);

  TrainingRanges r;
  std::mt19937_64 rng(2);
  for (int i = 0; i < 100; ++i) {
    const TrainingGenes g = RandomTraining(r, rng);
    const TrainingGenes m = MutateTraining(g, r, rng);
    EXPECT_FALSE(m == g);
    for (const TrainingGenes& x : {g, m}) {
      EXPECT_GE(x.learning_rate, r.min_learning_rate);
      EXPECT_LE(x.learning_rate, r.max_learning_rate);
      EXPECT_GE(x.momentum, r.min_momentum);
      EXPECT_LE(x.momentum, r.max_momentum);
    }
  }
}

TEST(BlueprintTest, ANodePointingToAGoneSpeciesIsRepointed) {
  BlueprintOps ops;
  ops.SetModuleSpecies({4, 5});
  Blueprint b = TwoNodes(4, 9);
  std::mt19937_64 rng(1);
  EXPECT_TRUE(ops.Repoint(&b, rng));
  EXPECT_EQ(b.graph.Node(2)->payload.species, 4);
  EXPECT_TRUE(b.graph.Node(3)->payload.species == 4 || b.graph.Node(3)->payload.species == 5);
  EXPECT_FALSE(ops.Repoint(&b, rng));
}

std::unique_ptr<SearchStrategy> CoDeepNeat(const nlohmann::json& params) {
  absl::StatusOr<std::unique_ptr<SearchStrategy>> s = CoDeepNeatStrategy::Make(params);
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

TEST(CoDeepNeatStrategyTest, AssemblesFromSeveralModuleSpeciesWithEvolvedTraining) {
  std::vector<TrainingSettings> seen;
  InMemorySearchContext ctx(ToySettings(8, 60), [&](const EvaluationJob& job) {
    seen.push_back(job.training);
    return Evaluated{ToyFitness(job.graph), std::nullopt};
  });
  ASSERT_TRUE(CoDeepNeat({{"blueprints", {{"initial_nodes", 2}}}})->Run(ctx).ok());
  ASSERT_GE(ctx.progress().size(), 3u);
  EXPECT_NE(ctx.progress().front().message.find("module species"), std::string::npos);
  ASSERT_TRUE(ctx.last_checkpoint().has_value());
  EXPECT_EQ(ctx.last_checkpoint()->artifacts.count("modules"), 1u);
  EXPECT_EQ(ctx.last_checkpoint()->artifacts.count("blueprints"), 1u);
  // Networks made of modules of more than one species.
  int mixed = 0;
  std::set<int> species;
  for (const Graph& g : ctx.evaluated()) {
    std::set<int> in_graph;
    for (auto [s, m] : ModulesNamed(g)) in_graph.insert(s), species.insert(s);
    mixed += in_graph.size() > 1;
  }
  EXPECT_GT(mixed, 0);
  EXPECT_GT(species.size(), 1u);
  // The blueprints' hyperparameters reached training, within their ranges.
  std::set<double> rates;
  for (const TrainingSettings& t : seen) {
    rates.insert(t.learning_rate);
    EXPECT_GE(t.learning_rate, 0.01);
    EXPECT_LE(t.learning_rate, 0.2);
  }
  EXPECT_GT(rates.size(), 3u);
}

TEST(CoDeepNeatStrategyTest, AResumedRunContinuesAsIfNeverStopped) {
  const nlohmann::json params = {{"blueprints", {{"population_size", 5}}},
                                 {"modules", {{"population_size", 6}}}};
  InMemorySearchContext whole(ToySettings(8, 30), ToyFitness);
  ASSERT_TRUE(CoDeepNeat(params)->Run(whole).ok());
  InMemorySearchContext crashed(ToySettings(8, 30), ToyFitness);
  crashed.CrashAfter(12);
  ASSERT_TRUE(CoDeepNeat(params)->Run(crashed).ok());
  ASSERT_TRUE(crashed.last_checkpoint().has_value());
  InMemorySearchContext resumed(ToySettings(8, 30), ToyFitness);
  resumed.SeedCheckpoint(*crashed.last_checkpoint());
  resumed.SeedCache(crashed.cache());
  ASSERT_TRUE(CoDeepNeat(params)->Run(resumed).ok());
  std::set<std::string> a, b;
  for (const TrialResult& r : whole.results()) a.insert(r.graph_hash);
  for (const TrialResult& r : crashed.results()) b.insert(r.graph_hash);
  for (const TrialResult& r : resumed.results()) b.insert(r.graph_hash);
  EXPECT_EQ(a, b);
}

TEST(GenomeDotTest, DrawsEachKindAndPicksTheBestOfAPopulation) {
  // A blueprint: its nodes by species, its training genes in the title.
  Blueprint b = TwoNodes(3, 4);
  b.training.learning_rate = 0.07;
  const std::string bp = BlueprintDot(b, "bp");
  EXPECT_NE(bp.find("module species 3"), std::string::npos);
  EXPECT_NE(bp.find("learning rate 0.07"), std::string::npos);
  EXPECT_NE(bp.find("n0 -> n1 [style=dashed"), std::string::npos);  // the disabled link
  // A module population: its best genome unless an index is given.
  deepneat::DeepNeatConfig config;
  config.population_size = 3;
  deepneat::LayerPopulation pop = deepneat::FirstLayerPopulation(config, 2);
  const nlohmann::json saved = pop.ToJson();
  absl::StatusOr<std::string> best = GenomeJsonDot(saved, -1, "modules");
  ASSERT_TRUE(best.ok()) << best.status();
  EXPECT_NE(best->find("layer-graph population: best"), std::string::npos);
  absl::StatusOr<std::string> second = GenomeJsonDot(saved, 1, "modules");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->find(deepneat::LayerTypeName(pop.genomes()[1].nodes[2].payload.type)), std::string::npos);
  EXPECT_FALSE(GenomeJsonDot(saved, 7, "modules").ok());
  EXPECT_FALSE(GenomeJsonDot(nlohmann::json::array(), -1, "x").ok());
  // An assembled network: boxed by module, titled with blueprint node and species.
  const Graph net = Assemble(TwoNodes(7, 9), {{7, 0}, {9, 1}}, SomeModules(2), {1, 28, 28}, 10);
  const std::string dot = NetworkDot(net, "net");
  EXPECT_NE(dot.find("blueprint node 2: module 0 of species 7"), std::string::npos);
  EXPECT_NE(dot.find("blueprint node 3: module 1 of species 9"), std::string::npos);
  EXPECT_NE(dot.find("\"classifier\""), std::string::npos);
}

TEST(CoDeepNeatStrategyTest, BadParametersAreRefusedByName) {
  const auto message = [](const nlohmann::json& j) {
    return std::string(CoDeepNeatStrategy::ValidateParams(j).message());
  };
  EXPECT_TRUE(CoDeepNeatStrategy::ValidateParams(nlohmann::json::object()).ok());
  // What a section gives replaces only those fields of CoDeepNEAT's defaults.
  absl::StatusOr<CoDeepNeatParams> p =
      CoDeepNeatParams::FromJson({{"modules", {{"population_size", 5}}}, {"blueprints", {{"add_node_rate", 0.5}}}});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->modules.population_size, 5);
  EXPECT_EQ(p->modules.initial_layers, 2);
  EXPECT_EQ(p->blueprints.initial_nodes, 2);
  EXPECT_EQ(p->blueprints.add_node_rate, 0.5);
  EXPECT_EQ(CoDeepNeatParams::FromJson(nlohmann::json::object())->modules.population_size, 12);
  EXPECT_NE(message({{"modules", {{"add_link_rate", -1}}}}).find("modules.add_link_rate"), std::string::npos);
  EXPECT_NE(message({{"blueprints", {{"training", {{"batch_sizes", {0}}}}}}}).find("blueprints.training.batch_sizes"),
            std::string::npos);
  EXPECT_NE(message({{"blueprints", {{"training", {{"min_learning_rate", 0.5}}}}}}).find("min_learning_rate"),
            std::string::npos);
  EXPECT_NE(message({{"assemblies_per_blueprint", 0}}).find("assemblies_per_blueprint"), std::string::npos);
  EXPECT_NE(message({{"blueprint", {}}}).find("blueprint"), std::string::npos);
}

}  // namespace
}  // namespace codeepneat
}  // namespace edgenas
