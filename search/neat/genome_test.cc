#include "search/neat/genome.h"

#include <cmath>

#include "gtest/gtest.h"
#include "search/neat/benchmarks.h"
#include "search/neat/network.h"
#include "search/neat/testing/hand_genome.h"

namespace edgenas {
namespace neat {
namespace {

using testing::C;
using testing::Make;

TEST(GenomeTest, CompatibilityDistanceCountsExcessDisjointAndWeights) {
  NeatConfig c;
  c.normalize_threshold = 0;  // N is the larger genome's size here
  // a: 1 2 3 4 5 8       b: 1 2 3 4 5 6 7 9 10 (the paper's figure 4 shape)
  Genome a = Make({C(1, 0, 3, 0.5), C(2, 1, 3, 0.5), C(3, 2, 3, 0.5), C(4, 1, 4, 0.5), C(5, 4, 3, 0.5),
                   C(8, 0, 4, 0.5)});
  Genome b = Make({C(1, 0, 3, 1.5), C(2, 1, 3, 0.5), C(3, 2, 3, 0.5), C(4, 1, 4, 0.5), C(5, 4, 3, 0.5),
                   C(6, 4, 5, 0.5), C(7, 5, 3, 0.5), C(9, 2, 4, 0.5), C(10, 0, 5, 0.5)});
  // Matching 1-5 (weight differences 1, 0, 0, 0, 0: mean 0.2); disjoint 6, 7
  // (b) and 8 (a); excess 9, 10 (b); N = 9.
  EXPECT_DOUBLE_EQ(CompatibilityDistance(a, b, c), 1.0 * 2 / 9 + 1.0 * 3 / 9 + 0.4 * 0.2);
  EXPECT_DOUBLE_EQ(CompatibilityDistance(b, a, c), CompatibilityDistance(a, b, c));
  EXPECT_DOUBLE_EQ(CompatibilityDistance(a, a, c), 0);
  // Small genomes are not normalized: N = 1.
  c.normalize_threshold = 20;
  EXPECT_DOUBLE_EQ(CompatibilityDistance(a, b, c), 2.0 + 3.0 + 0.4 * 0.2);
}

TEST(GenomeTest, CrossoverAlignsByInnovationAndTakesTheFitterParentsDisjointAndExcess) {
  NeatConfig c;
  c.disabled_inherit_rate = 1.0;  // a gene disabled in either parent stays disabled
  Genome fitter = Make({C(1, 0, 3, 1), C(2, 1, 3, 2, false), C(3, 2, 3, 3), C(4, 1, 4, 4), C(5, 4, 3, 5),
                        C(8, 0, 4, 8)});
  Genome other = Make({C(1, 0, 3, -1), C(2, 1, 3, -2), C(3, 2, 3, -3), C(4, 1, 4, -4), C(5, 4, 3, -5, false),
                       C(6, 4, 5, -6), C(7, 5, 3, -7), C(9, 2, 4, -9), C(10, 0, 5, -10)});
  std::mt19937_64 rng(3);
  int from_other = 0;
  for (int trial = 0; trial < 200; ++trial) {
    Genome child = Crossover(fitter, other, false, c, rng);
    // Exactly the fitter parent's genes, by innovation.
    ASSERT_EQ(child.connections.size(), fitter.connections.size());
    for (size_t i = 0; i < child.connections.size(); ++i) {
      const ConnectionGene& g = child.connections[i];
      EXPECT_EQ(g.innovation, fitter.connections[i].innovation);
      if (g.innovation <= 5) {
        // Matching: either parent's weight.
        EXPECT_TRUE(std::abs(g.weight) == g.innovation) << g.weight;
        from_other += g.weight < 0;
      } else {
        EXPECT_EQ(g.weight, 8);
      }
    }
    EXPECT_FALSE(child.connections[1].enabled);  // disabled in the fitter
    EXPECT_FALSE(child.connections[4].enabled);  // disabled in the other
    EXPECT_TRUE(child.connections[0].enabled);
    EXPECT_EQ(child.HiddenNodes(), 1);  // node 4; node 5 belongs to the other's genes
  }
  // Matching genes come from either parent, about half each (5 x 200 draws).
  EXPECT_GT(from_other, 400);
  EXPECT_LT(from_other, 600);

  // With the paper's 0.75, a gene disabled in one parent is enabled in
  // about a quarter of children.
  c.disabled_inherit_rate = 0.75;
  int enabled = 0;
  for (int trial = 0; trial < 2000; ++trial) enabled += Crossover(fitter, other, false, c, rng).connections[4].enabled;
  EXPECT_NEAR(enabled / 2000.0, 0.25, 0.04);
}

TEST(GenomeTest, TheSameStructuralMutationInOneGenerationGetsTheSameNumbers) {
  NeatConfig c;
  std::mt19937_64 rng(1);
  InnovationRecord record = MinimalInnovations(2, 1);  // links 0-2 into node 3; next node 4
  Genome a = MinimalGenome(2, 1, c, rng), b = MinimalGenome(2, 1, c, rng);
  EXPECT_EQ(a.connections.size(), 3u);
  EXPECT_EQ(a.connections[2].innovation, 2);
  // Both split the link 0 -> 3 (innovation 0).
  const InnovationRecord::Split s1 = record.SplitOf(0), s2 = record.SplitOf(0);
  EXPECT_EQ(s1.node, 4);
  EXPECT_EQ(s1.in_innovation, 3);
  EXPECT_EQ(s1.out_innovation, 4);
  EXPECT_EQ(s2.node, s1.node);
  EXPECT_EQ(s2.in_innovation, s1.in_innovation);
  EXPECT_EQ(record.Link(1, 4), 5);
  EXPECT_EQ(record.Link(1, 4), 5);
  EXPECT_EQ(record.Link(4, 4), 6);
  // The next generation, the same changes are new innovations.
  record.NextGeneration();
  const InnovationRecord::Split s3 = record.SplitOf(0);
  EXPECT_EQ(s3.node, 5);
  EXPECT_EQ(s3.in_innovation, 7);
  EXPECT_EQ(record.Link(1, 4), 9);

  // A split through the genome: the old link disabled, in -> new weight 1,
  // new -> out the old weight.
  InnovationRecord fresh = MinimalInnovations(2, 1);
  std::mt19937_64 pick(2);
  const Genome before = a;
  // A small genome's split may give up (it walks past the newest link
  // without stopping) and then leaves the genome as it was.
  int tries = 0;
  while (!MutateAddNode(&a, &fresh, pick)) {
    ASSERT_EQ(a, before);
    ASSERT_LT(++tries, 100);
  }
  EXPECT_EQ(a.HiddenNodes(), 1);
  EXPECT_EQ(a.connections.size(), 5u);
  int disabled = 0;
  for (const ConnectionGene& g : a.connections) {
    if (!g.enabled) {
      ++disabled;
      const ConnectionGene& old = before.connections[g.innovation];
      const ConnectionGene& in = a.connections[3];
      const ConnectionGene& out = a.connections[4];
      EXPECT_EQ(in.in, old.in);
      EXPECT_EQ(in.weight, 1.0);
      EXPECT_EQ(out.out, old.out);
      EXPECT_EQ(out.weight, old.weight);
    }
  }
  EXPECT_EQ(disabled, 1);
}

TEST(GenomeTest, FeedForwardLinksNeverCloseACycle) {
  NeatConfig c;
  std::mt19937_64 rng(9);
  InnovationRecord record = MinimalInnovations(2, 1);
  Genome g = MinimalGenome(2, 1, c, rng);
  for (int i = 0; i < 200; ++i) {
    if (i % 3 == 0) MutateAddNode(&g, &record, rng);
    MutateAddLink(&g, &record, c, rng);
  }
  // Kahn's algorithm consumes every node exactly when there is no cycle.
  std::map<int, int> indegree;
  for (const NodeGene& n : g.nodes) indegree[n.id] = 0;
  for (const ConnectionGene& e : g.connections)
    if (e.enabled) ++indegree[e.out];
  std::vector<int> ready;
  for (auto& [id, d] : indegree)
    if (d == 0) ready.push_back(id);
  size_t seen = 0;
  while (!ready.empty()) {
    const int v = ready.back();
    ready.pop_back();
    ++seen;
    for (const ConnectionGene& e : g.connections)
      if (e.enabled && e.in == v && --indegree[e.out] == 0) ready.push_back(e.out);
  }
  EXPECT_EQ(seen, g.nodes.size());
  EXPECT_GT(g.HiddenNodes(), 10);
}

TEST(NetworkTest, AHandMadeXorNetworkSolvesXor) {
  NeatConfig c;
  // h4 = OR, h5 = NAND, out = AND of the two; the steepened sigmoid needs
  // only moderate weights.
  Genome g = Make({C(1, 0, 4, 2), C(2, 1, 4, 2), C(3, 2, 4, -1), C(4, 0, 5, -2), C(5, 1, 5, -2),
                   C(6, 2, 5, 3), C(7, 4, 3, 2), C(8, 5, 3, 2), C(9, 2, 3, -3)});
  bool solved = false;
  const double fitness = XorFitness(g, c, &solved);
  EXPECT_TRUE(solved);
  EXPECT_GT(fitness, 15.5);  // (4 - small error)^2
  Network net(g, c);
  EXPECT_NEAR(net.Activate({1, 1})[0], 1 / (1 + std::exp(-4.9 * (2 / (1 + std::exp(-4.9 * 3)) +
                                                                 2 / (1 + std::exp(-4.9 * -1)) - 3))),
              1e-12);
}

}  // namespace
}  // namespace neat
}  // namespace edgenas
