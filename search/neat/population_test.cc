#include "search/neat/neat_population.h"

#include "gtest/gtest.h"
#include "search/neat/benchmarks.h"
#include "search/neat/testing/hand_genome.h"

namespace edgenas {
namespace neat {
namespace {

using testing::C;
using testing::Make;

// Kind A: the minimal genome. Kind B: A with two links split (four excess
// genes, so delta >= 4 from any A). Kind C: the bias link split and both
// inputs linked to the new node (delta >= 4 from A, 8 from B).
Genome KindA(double w) { return Make({C(0, 0, 3, w), C(1, 1, 3, w), C(2, 2, 3, w)}); }
Genome KindB(double w) {
  return Make({C(0, 0, 3, w, false), C(1, 1, 3, w, false), C(2, 2, 3, w), C(3, 0, 4, 1),
               C(4, 4, 3, w), C(5, 1, 5, 1), C(6, 5, 3, w)});
}
Genome KindC(double w) {
  return Make({C(0, 0, 3, w), C(1, 1, 3, w), C(2, 2, 3, w, false), C(7, 2, 6, 1), C(8, 6, 3, w),
               C(9, 0, 6, w), C(10, 1, 6, w)});
}

// A population of `kinds` (one genome each, in order) with the fitnesses given.
NeatPopulation Of(const std::vector<Genome>& kinds, const std::vector<double>& fitness,
              NeatConfig config = {}) {
  config.population_size = static_cast<int>(kinds.size());
  absl::StatusOr<NeatPopulation> p = PopulationOf(config, 2, 1, kinds, 1);
  EXPECT_TRUE(p.ok()) << p.status();
  for (size_t i = 0; i < fitness.size(); ++i) p->SetFitness(i, fitness[i]);
  return *std::move(p);
}

std::vector<int> Offspring(const NeatPopulation& p) {
  std::vector<int> n;
  for (const auto& s : p.species()) n.push_back(s.offspring);
  return n;
}

TEST(PopulationTest, SpeciatesByTheThresholdAndAllotsOffspringBySharedFitness) {
  // Five of A at fitness 1, five of B at fitness 4: claims 5*1/5 = 1 and
  // 5*4/5 = 4 of 5, so 2 and 8 of 10 offspring.
  std::vector<Genome> g;
  for (int i = 0; i < 5; ++i) g.push_back(KindA(0.1 * i));
  for (int i = 0; i < 5; ++i) g.push_back(KindB(0.1 * i));
  NeatPopulation p = Of(g, {1, 1, 1, 1, 1, 4, 4, 4, 4, 4});
  p.Speciate();
  ASSERT_EQ(p.species().size(), 2u);
  EXPECT_EQ(p.species()[0].members, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(p.species()[1].members, (std::vector<int>{5, 6, 7, 8, 9}));
  p.AllotOffspring();
  EXPECT_EQ(Offspring(p), (std::vector<int>{2, 8}));

  // Sharing is what makes the small species count: two of A at 3 (claim 3)
  // against eight of B at 1.5 (claim 1.5): 6.67 and 3.33 -> 7 and 3 (by raw
  // fitness sums, 6 against 12, A would get 3).
  g = {KindA(0), KindA(0.1)};
  for (int i = 0; i < 8; ++i) g.push_back(KindB(0.1 * i));
  NeatPopulation q = Of(g, {3, 3, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5});
  q.Speciate();
  q.AllotOffspring();
  EXPECT_EQ(Offspring(q), (std::vector<int>{7, 3}));

  // A threshold above B's distance from A puts everyone in one species.
  NeatConfig loose;
  loose.compatibility_threshold = 10;
  NeatPopulation r = Of(g, std::vector<double>(10, 1), loose);
  r.Speciate();
  EXPECT_EQ(r.species().size(), 1u);
}

TEST(PopulationTest, TheNextGenerationIsExactlyThePopulationSize) {
  NeatConfig c;
  c.population_size = 37;  // leaves remainders to share out
  NeatPopulation p = MinimalPopulation(c, 2, 1, 3);
  for (int gen = 0; gen < 30; ++gen) {
    for (size_t i = 0; i < p.genomes().size(); ++i) {
      bool solved = false;
      p.SetFitness(i, XorFitness(p.genomes()[i], c, &solved));
    }
    p.Epoch();
    ASSERT_EQ(p.genomes().size(), 37u) << "generation " << gen;
    int total = 0;
    for (const auto& s : p.species()) total += s.offspring;
    ASSERT_EQ(total, 37);
  }
}

// The population after a first Speciate, its species' history rewritten:
// both species last improved at generation 0, at the fitness they hold, and
// the generation is now `generation`.
NeatPopulation Aged(const std::vector<Genome>& g, const std::vector<double>& fitness, int generation,
                int population_best_generation) {
  NeatPopulation p = Of(g, fitness);
  p.Speciate();
  p.AllotOffspring();  // records each species' best at generation 0
  nlohmann::json j = p.ToJson();
  j["generation"] = generation;
  j["best_generation"] = population_best_generation;
  absl::StatusOr<NeatPopulation> aged = NeatPopulation::FromJson(j);
  EXPECT_TRUE(aged.ok()) << aged.status();
  for (size_t i = 0; i < fitness.size(); ++i) aged->SetFitness(i, fitness[i]);
  aged->Speciate();
  return *std::move(aged);
}

TEST(PopulationTest, ASpeciesStagnantFor15GenerationsHasNoOffspringUnlessItHoldsTheBest) {
  std::vector<Genome> g;
  for (int i = 0; i < 5; ++i) g.push_back(KindA(0.1 * i));
  for (int i = 0; i < 5; ++i) g.push_back(KindB(0.1 * i));
  const std::vector<double> fitness = {1, 1, 1, 1, 1, 4, 4, 4, 4, 4};
  // 14 generations without improvement: both still reproduce.
  NeatPopulation young = Aged(g, fitness, 14, 14);
  young.AllotOffspring();
  EXPECT_EQ(Offspring(young), (std::vector<int>{2, 8}));
  // 15: A is stagnant; B is as stagnant but holds the best genome.
  NeatPopulation old = Aged(g, fitness, 15, 15);
  old.AllotOffspring();
  EXPECT_EQ(Offspring(old), (std::vector<int>{0, 10}));
  // A species that improves is young again.
  NeatPopulation improved = Aged(g, fitness, 15, 15);
  improved.SetFitness(2, 2);
  improved.AllotOffspring();
  EXPECT_GT(improved.species()[0].offspring, 0);
}

TEST(PopulationTest, WhenThePopulationStagnatesOnlyTheTwoBestSpeciesReproduce) {
  std::vector<Genome> g;
  for (int i = 0; i < 4; ++i) g.push_back(KindA(0.1 * i));
  for (int i = 0; i < 4; ++i) g.push_back(KindB(0.1 * i));
  for (int i = 0; i < 4; ++i) g.push_back(KindC(0.1 * i));
  // C improves (so it is not stagnant itself) but is the worst of three;
  // the population's best has not risen for 20 generations.
  NeatPopulation p = Aged(g, {2, 2, 2, 2, 4, 4, 4, 4, 1, 1, 1, 1.5}, 20, 0);
  ASSERT_EQ(p.species().size(), 3u);
  p.AllotOffspring();
  const std::vector<int> n = Offspring(p);
  EXPECT_EQ(n[2], 0);
  EXPECT_EQ(n[0] + n[1], 12);
}

bool Holds(const std::vector<Genome>& genomes, const Genome& g) {
  return std::find(genomes.begin(), genomes.end(), g) != genomes.end();
}

TEST(PopulationTest, TheChampionOfASpeciesOfMoreThanFiveIsCopiedUnchanged) {
  // Six of A (champion index 2) and six of B (champion index 9).
  std::vector<Genome> g;
  for (int i = 0; i < 6; ++i) g.push_back(KindA(0.1 * i));
  for (int i = 0; i < 6; ++i) g.push_back(KindB(0.1 * i));
  NeatPopulation p = Of(g, {1, 1, 3, 1, 1, 1, 2, 2, 2, 5, 2, 2});
  p.Epoch();
  EXPECT_TRUE(Holds(p.genomes(), g[2]));
  EXPECT_TRUE(Holds(p.genomes(), g[9]));

  // Five of each: no species is large enough, and no child is a copy (a
  // parent alone is always mutated).
  g.clear();
  for (int i = 0; i < 5; ++i) g.push_back(KindA(0.1 * i));
  for (int i = 0; i < 5; ++i) g.push_back(KindB(0.1 * i));
  NeatPopulation q = Of(g, {1, 1, 3, 1, 1, 2, 2, 2, 5, 2});
  q.Epoch();
  for (const Genome& parent : g) EXPECT_FALSE(Holds(q.genomes(), parent));
}

// A few XOR generations from `seed`.
NeatPopulation Evolved(uint64_t seed, int generations) {
  NeatConfig c;
  NeatPopulation p = MinimalPopulation(c, 2, 1, seed);
  for (int gen = 0; gen < generations; ++gen) {
    for (size_t i = 0; i < p.genomes().size(); ++i) {
      bool solved = false;
      p.SetFitness(i, XorFitness(p.genomes()[i], c, &solved));
    }
    p.Epoch();
  }
  return p;
}

TEST(PopulationTest, ACheckpointResumesToAnIdenticalNextGeneration) {
  NeatPopulation p = Evolved(1, 12);
  absl::StatusOr<NeatPopulation> q = NeatPopulation::FromJson(nlohmann::json::parse(p.ToJson().dump()));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->ToJson(), p.ToJson());
  for (NeatPopulation* x : {&p, &*q}) {
    for (size_t i = 0; i < x->genomes().size(); ++i) {
      bool solved = false;
      x->SetFitness(i, XorFitness(x->genomes()[i], x->ops().config(), &solved));
    }
    x->Epoch();
  }
  EXPECT_EQ(q->genomes(), p.genomes());
  EXPECT_EQ(q->ToJson(), p.ToJson());
  EXPECT_GT(p.species().size(), 1u);
}

TEST(PopulationTest, AFixedSeedGivesAFixedRun) {
  EXPECT_EQ(Evolved(5, 8).ToJson(), Evolved(5, 8).ToJson());
  EXPECT_NE(Evolved(5, 8).genomes(), Evolved(6, 8).genomes());
  NeatConfig c;
  const RunResult a = RunXor(c, 21, 200), b = RunXor(c, 21, 200);
  EXPECT_TRUE(a.solved);
  EXPECT_EQ(a.evaluations, b.evaluations);
}

TEST(PopulationTest, ABrokenCheckpointIsAnErrorNamingWhatIsWrong) {
  nlohmann::json j = Evolved(2, 2).ToJson();
  nlohmann::json no_rng = j;
  no_rng.erase("rng");
  EXPECT_NE(NeatPopulation::FromJson(no_rng).status().message().find("rng"), std::string::npos);
  nlohmann::json wrong_type = j;
  wrong_type["generation"] = "three";
  EXPECT_FALSE(NeatPopulation::FromJson(wrong_type).ok());
  nlohmann::json short_of_genomes = j;
  short_of_genomes["genomes"].erase(0);
  EXPECT_NE(NeatPopulation::FromJson(short_of_genomes).status().message().find("genomes"),
            std::string::npos);
  nlohmann::json bad_config = j;
  bad_config["ops"]["config"]["add_node_rate"] = 2;
  EXPECT_NE(NeatPopulation::FromJson(bad_config).status().message().find("add_node_rate"),
            std::string::npos);
}

TEST(NeatConfigTest, UnknownKeysAndBadValuesAreErrorsNamingTheField) {
  EXPECT_TRUE(NeatConfig::FromJson(nlohmann::json::object()).ok());
  absl::StatusOr<NeatConfig> c = NeatConfig::FromJson({{"population_size", 300}, {"recurrent", true}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->population_size, 300);
  EXPECT_TRUE(c->recurrent);
  EXPECT_EQ(NeatConfig::FromJson(c->ToJson())->ToJson(), c->ToJson());
  const auto error = [](const nlohmann::json& j) {
    return std::string(NeatConfig::FromJson(j, "neat").status().message());
  };
  EXPECT_NE(error({{"populaton_size", 3}}).find("neat.populaton_size"), std::string::npos);
  EXPECT_NE(error({{"add_node_rate", 1.5}}).find("neat.add_node_rate"), std::string::npos);
  EXPECT_NE(error({{"population_size", 2.5}}).find("neat.population_size"), std::string::npos);
  EXPECT_NE(error({{"recurrent", "yes"}}).find("neat.recurrent"), std::string::npos);
  EXPECT_NE(error({{"compatibility_threshold", 1.0}, {"threshold_floor", 2.0}}).find("threshold_floor"),
            std::string::npos);
}

}  // namespace
}  // namespace neat
}  // namespace edgenas
