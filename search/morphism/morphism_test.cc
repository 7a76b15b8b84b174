#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/morph/testing/morph_check.h"
#include "search/morphism/architecture_distance.h"
#include "search/morphism/gaussian_process.h"
#include "search/morphism/morph_tree.h"
#include "search/morphism/morphism_strategy.h"
#include "search/space/mobile_space.h"
#include "search/testing/in_memory_context.h"
#include "search/testing/toy_fitness.h"

namespace edgenas {
namespace morphism {
namespace {

using ::testing::HasSubstr;

Node ConvNode(const std::string& name, const std::string& input, int out, int kernel, int stride = 1) {
  Node n;
  n.name = name;
  n.op = OpKind::kConv;
  n.inputs = {input};
  n.conv.out_channels = out;
  n.conv.kernel_h = n.conv.kernel_w = kernel;
  n.conv.stride_h = n.conv.stride_w = stride;
  n.conv.pad_h = n.conv.pad_w = kernel / 2;
  return n;
}

Node SimpleNode(const std::string& name, OpKind op, std::vector<std::string> inputs) {
  Node n;
  n.name = name;
  n.op = op;
  n.inputs = std::move(inputs);
  return n;
}

// input -> c1 (8, 3x3) -> relu -> c2 (8, 3x3) -> add(relu, c2) -> gap -> flatten -> fc
Graph ResidualGraph() {
  Graph g;
  g.input = {1, 8, 8};
  g.num_classes = 10;
  g.nodes = {ConvNode("c1", "input", 8, 3), SimpleNode("r1", OpKind::kRelu, {"c1"}),
             ConvNode("c2", "r1", 8, 3), SimpleNode("add", OpKind::kAdd, {"r1", "c2"}),
             SimpleNode("gap", OpKind::kGlobalAvgPool, {"add"}),
             SimpleNode("flat", OpKind::kFlatten, {"gap"})};
  Node fc;
  fc.name = "fc";
  fc.op = OpKind::kDense;
  fc.inputs = {"flat"};
  fc.dense.units = 10;
  g.nodes.push_back(fc);
  return g;
}

std::vector<Graph> SpaceGraphs(int count, uint64_t seed) {
  MobileSpace space;
  std::mt19937_64 rng(seed);
  std::vector<Graph> out;
  for (int i = 0; i < count; ++i) out.push_back(BuildGraph(space.Sample(rng), space));
  return out;
}

ArchitectureDescriptor DescribeOk(const Graph& g) {
  absl::StatusOr<ArchitectureDescriptor> d = Describe(g);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *d : ArchitectureDescriptor{};
}

TEST(ArchitectureDistanceTest, DescribesLayersAndTheSkipOfAResidual) {
  const ArchitectureDescriptor d = DescribeOk(ResidualGraph());
  ASSERT_EQ(d.layers.size(), 4u);  // c1, c2, gap, fc
  EXPECT_EQ(d.layers[0], (LayerDescriptor{LayerKind::kConv, 8, 3, 1}));
  EXPECT_EQ(d.layers[2].kind, LayerKind::kGlobalPool);
  EXPECT_EQ(d.layers[3], (LayerDescriptor{LayerKind::kDense, 10, 0, 1}));
  ASSERT_EQ(d.skips.size(), 1u);
  EXPECT_EQ(d.skips[0], (SkipDescriptor{1, 2, MergeKind::kAdd}));  // after c1, joining after c2
}

TEST(ArchitectureDistanceTest, LayerAndLayersDistancesAreAutoKerasS) {
  const LayerDescriptor a{LayerKind::kConv, 16, 3, 1}, b{LayerKind::kConv, 32, 5, 1};
  EXPECT_DOUBLE_EQ(LayerDistance(a, a), 0);
  EXPECT_DOUBLE_EQ(LayerDistance(a, b), (0.5 + 0.4 + 0) / 3);
  EXPECT_DOUBLE_EQ(LayerDistance(a, {LayerKind::kDense, 16, 0, 1}), 1);
  // One insertion, one substitution.
  EXPECT_DOUBLE_EQ(LayersDistance({a, a}, {a, b, a}), 1 + 0.0);
  EXPECT_DOUBLE_EQ(LayersDistance({a, a}, {b, a, a}), 1);
  EXPECT_DOUBLE_EQ(LayersDistance({a}, {b}), LayerDistance(a, b));
  EXPECT_DOUBLE_EQ(LayersDistance({}, {a, b}), 2);
}

TEST(ArchitectureDistanceTest, SkipsAreMatchedAtTheLeastCost) {
  const SkipDescriptor s{1, 3, MergeKind::kAdd};
  EXPECT_DOUBLE_EQ(SkipDistance(s, s), 0);
  EXPECT_DOUBLE_EQ(SkipDistance(s, {1, 3, MergeKind::kConcat}), 1);
  // |1 - 2| + |2 - 4| over max(1, 2) + max(2, 4).
  EXPECT_DOUBLE_EQ(SkipDistance(s, {2, 6, MergeKind::kAdd}), 3.0 / 6);
  // Crossed lists: the matching pairs equal connections, the extra one costs 1.
  const std::vector<SkipDescriptor> x = {{1, 3, MergeKind::kAdd}, {4, 6, MergeKind::kConcat}};
  const std::vector<SkipDescriptor> y = {
      {4, 6, MergeKind::kConcat}, {0, 9, MergeKind::kAdd}, {1, 3, MergeKind::kAdd}};
  EXPECT_DOUBLE_EQ(SkipsDistance(x, y), 1);
  EXPECT_DOUBLE_EQ(SkipsDistance(y, x), 1);
}

TEST(ArchitectureDistanceTest, AssignmentIsTheBruteForceMinimum) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 50; ++trial) {
    const int rows = 1 + trial % 4, cols = rows + trial % 3;
    std::vector<std::vector<double>> cost(rows, std::vector<double>(cols));
    for (auto& row : cost)
      for (double& c : row) c = u(rng);
    const std::vector<int> match = MinCostAssignment(cost);
    std::set<int> used(match.begin(), match.end());
    ASSERT_EQ(used.size(), static_cast<size_t>(rows));
    double got = 0;
    for (int i = 0; i < rows; ++i) got += cost[i][match[i]];
    std::vector<int> perm(cols);
    std::iota(perm.begin(), perm.end(), 0);
    double best = 1e9;
    do {
      double c = 0;
      for (int i = 0; i < rows; ++i) c += cost[i][perm[i]];
      best = std::min(best, c);
    } while (std::next_permutation(perm.begin(), perm.end()));
    EXPECT_NEAR(got, best, 1e-12) << "trial " << trial;
  }
}

TEST(ArchitectureDistanceTest, EditDistanceIsZeroOnItselfAndSymmetric) {
  const std::vector<Graph> graphs = SpaceGraphs(12, 3);
  for (const Graph& a : graphs) {
    const ArchitectureDescriptor da = DescribeOk(a);
    EXPECT_DOUBLE_EQ(EditDistance(da, da), 0);
    for (const Graph& b : graphs) {
      const ArchitectureDescriptor db = DescribeOk(b);
      EXPECT_NEAR(EditDistance(da, db), EditDistance(db, da), 1e-12);
    }
  }
}

TEST(ArchitectureDistanceTest, EditDistanceObeysTheTriangleInequality) {
  // Architectures of the space, and random descriptors with every layer and
  // merge kind, lengths and positions.
  std::vector<ArchitectureDescriptor> d;
  for (const Graph& g : SpaceGraphs(20, 41)) d.push_back(DescribeOk(g));
  std::mt19937_64 rng(43);
  std::uniform_int_distribution<int> count(0, 6), kind(0, 6), width(1, 64), kernel(0, 7),
      stride(1, 2), pos(0, 9), merge(0, 2);
  for (int i = 0; i < 40; ++i) {
    ArchitectureDescriptor x;
    for (int n = count(rng); n > 0; --n)
      x.layers.push_back({static_cast<LayerKind>(kind(rng)), width(rng), kernel(rng), stride(rng)});
    for (int n = count(rng); n > 0; --n) {
      int a = pos(rng), b = pos(rng);
      x.skips.push_back({std::min(a, b), std::max(a, b), static_cast<MergeKind>(merge(rng))});
    }
    d.push_back(std::move(x));
  }
  std::uniform_int_distribution<size_t> pick(0, d.size() - 1);
  for (int t = 0; t < 20000; ++t) {
    const ArchitectureDescriptor &x = d[pick(rng)], &y = d[pick(rng)], &z = d[pick(rng)];
    ASSERT_LE(EditDistance(x, z), EditDistance(x, y) + EditDistance(y, z) + 1e-9) << "triple " << t;
  }
}

TEST(GaussianProcessTest, BourgainEmbeddingNeverStretchesADistance) {
  const std::vector<Graph> graphs = SpaceGraphs(40, 11);
  std::vector<ArchitectureDescriptor> d;
  for (const Graph& g : graphs) d.push_back(DescribeOk(g));
  std::mt19937_64 rng(2);
  const BourgainEmbedding e = BourgainEmbedding::Draw(static_cast<int>(d.size()), rng);
  // n = 40: k = ceil(log2(40) - 1) = 5, t = ceil(ln 40) = 4: 24 subsets.
  EXPECT_EQ(e.dimensions(), 24u);
  std::vector<std::vector<double>> phi;
  for (const auto& x : d) {
    std::vector<double> dist;
    for (const auto& y : d) dist.push_back(EditDistance(x, y));
    phi.push_back(e.Embed(dist));
  }
  for (size_t i = 0; i < d.size(); ++i) {
    for (size_t j = 0; j < d.size(); ++j) {
      double s = 0;
      for (size_t k = 0; k < phi[i].size(); ++k) s += (phi[i][k] - phi[j][k]) * (phi[i][k] - phi[j][k]);
      EXPECT_LE(std::sqrt(s), EditDistance(d[i], d[j]) + 1e-9);
    }
  }
}

// `count` architectures of the space and their toy accuracies.
struct ToyPoints {
  std::vector<ArchitectureDescriptor> xs;
  std::vector<double> ys;
};
ToyPoints ToyArchitectures(int count, uint64_t seed) {
  ToyPoints p;
  for (const Graph& g : SpaceGraphs(count, seed)) {
    p.xs.push_back(DescribeOk(g));
    p.ys.push_back(ToyFitness(g).val_accuracy);
  }
  return p;
}

TEST(GaussianProcessTest, KernelIsPositiveSemiDefiniteOnManyArchitectures) {
  const ToyPoints points = ToyArchitectures(60, 17);
  absl::StatusOr<ArchitectureGp> gp = ArchitectureGp::Fit(points.xs, points.ys, 4);
  ASSERT_TRUE(gp.ok()) << gp.status();
  // PSD: with a jitter far below the fitted noise, Cholesky still succeeds,
  // and x^T K x >= 0 for random x.
  std::vector<std::vector<double>> k = gp->kernel();
  for (size_t i = 0; i < k.size(); ++i)
    for (size_t j = 0; j < k.size(); ++j) ASSERT_EQ(k[i][j], k[j][i]);
  for (size_t i = 0; i < k.size(); ++i) k[i][i] += 1e-9;
  EXPECT_TRUE(Cholesky(k).ok());
  std::mt19937_64 rng(9);
  std::normal_distribution<double> n(0, 1);
  for (int trial = 0; trial < 100; ++trial) {
    std::vector<double> x(k.size());
    for (double& v : x) v = n(rng);
    double q = 0;
    for (size_t i = 0; i < k.size(); ++i)
      for (size_t j = 0; j < k.size(); ++j) q += x[i] * gp->kernel()[i][j] * x[j];
    EXPECT_GE(q, -1e-9);
  }
}

TEST(GaussianProcessTest, FitsItsPointsAndIsUnsureFarFromThem) {
  const ToyPoints points = ToyArchitectures(30, 23);
  const std::vector<ArchitectureDescriptor>& xs = points.xs;
  const std::vector<double>& ys = points.ys;
  absl::StatusOr<ArchitectureGp> gp = ArchitectureGp::Fit(xs, ys, 4);
  ASSERT_TRUE(gp.ok()) << gp.status();
  double mean_sd_at_points = 0;
  for (size_t i = 0; i < xs.size(); ++i) mean_sd_at_points += gp->Predict(xs[i]).stddev / xs.size();
  // A dense chain of 40 wide layers: far from every sampled architecture.
  ArchitectureDescriptor far;
  for (int i = 0; i < 40; ++i) far.layers.push_back({LayerKind::kDense, 4096, 0, 1});
  const GpPrediction p = gp->Predict(far);
  EXPECT_GT(p.stddev, 2 * mean_sd_at_points);
  // Within the spread of the rewards: the prior mean far away.
  const auto [lo, hi] = std::minmax_element(ys.begin(), ys.end());
  EXPECT_GE(p.mean, *lo - 1e-9);
  EXPECT_LE(p.mean, *hi + 1e-9);
  EXPECT_GT(gp->UpperConfidenceBound(far, 2.576), p.mean);
}

TEST(MorphTreeTest, StepsRoundTripThroughJsonAndRefuseAnUnknownKind) {
  MorphStep w{MorphKind::kWiden, "b1/conv", "", 24, 12345678901234567890ull};
  absl::StatusOr<MorphStep> back = MorphStep::FromJson(w.ToJson(), "steps[0]");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToJson(), w.ToJson());
  EXPECT_EQ(back->seed, w.seed);
  nlohmann::json bad = w.ToJson();
  bad["kind"] = "shrink";
  EXPECT_THAT(std::string(MorphStep::FromJson(bad, "steps[0]").status().message()),
              HasSubstr("steps[0].kind: unknown morph 'shrink'"));
}

TEST(MorphTreeTest, AppliedStepsKeepTheFunctionAndReplayIdentically) {
  const Graph g = ResidualGraph();
  Model parent = testing::RandomModel(g, 3);
  const std::vector<MorphStep> steps = {{MorphKind::kDeepen, "r1", "", 0, 0},
                                        {MorphKind::kWiden, "c1", "", 12, 99},
                                        {MorphKind::kEnlarge, "c2", "", 0, 0},
                                        {MorphKind::kSkipConcat, "r1", "add", 0, 0}};
  MorphSettings exact;
  exact.widen_noise = 0;
  absl::StatusOr<Model> child = ApplyMorphs(parent, steps, exact);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_LT(testing::MaxDifference(parent, *child), testing::kMorphTolerance);
  absl::StatusOr<Model> again = ApplyMorphs(parent, steps, exact);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*CanonicalHash(child->graph), *CanonicalHash(again->graph));
  EXPECT_NE(*CanonicalHash(child->graph), *CanonicalHash(parent.graph));
}

TEST(MorphTreeTest, AnnealingFindsANewChildWithinTheBoundAndIsDeterministic) {
  const std::vector<Graph> roots = SpaceGraphs(3, 31);
  std::vector<Model> models;
  for (size_t i = 0; i < roots.size(); ++i) models.push_back(testing::RandomModel(roots[i], i + 1));
  std::set<std::string> seen;
  for (const Graph& g : roots) seen.insert(*CanonicalHash(g));
  int loads = 0;
  auto run = [&](uint64_t seed, TreeSearchStats* stats) {
    // An acquisition that prefers more layers: the search should deepen.
    MorphTreeSearch search(
        [&](int i) -> absl::StatusOr<Model> {
          ++loads;
          return models[i];
        },
        [](const ArchitectureDescriptor& d) { return static_cast<double>(d.layers.size()); },
        AnnealingSettings{}, MorphSettings{}, int64_t{40'000'000});
    std::mt19937_64 rng(seed);
    return search.Search(roots, seen, rng, stats);
  };
  TreeSearchStats stats;
  absl::StatusOr<std::optional<MorphCandidate>> found = run(7, &stats);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  const MorphCandidate& c = **found;
  EXPECT_GT(stats.expanded, 1);
  EXPECT_GT(stats.generated, 8);
  EXPECT_LE(c.flops, 40'000'000);
  EXPECT_EQ(seen.count(c.graph_hash), 0u);
  EXPECT_GT(c.descriptor.layers.size(), DescribeOk(roots[c.root]).layers.size());
  // The steps rebuild the candidate from its root.
  absl::StatusOr<Model> rebuilt = ApplyMorphs(models[c.root], c.steps, MorphSettings{});
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(*CanonicalHash(rebuilt->graph), c.graph_hash);
  // Fewer loads than expansions: roots stay loaded.
  EXPECT_LT(loads, stats.expanded);
  absl::StatusOr<std::optional<MorphCandidate>> again = run(7, nullptr);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->graph_hash, c.graph_hash);
}

// A trainer stand-in: the model is the initial weights (or a fresh
// initialization), the reward ToyFitness's.
Evaluated ToyTraining(const EvaluationJob& job) {
  Evaluated e{ToyFitness(job.graph), Model{}};
  e.model->graph = job.graph;
  if (job.initial_weights != nullptr) {
    e.model->params = *job.initial_weights;
  } else {
    std::mt19937_64 rng(1);
    EXPECT_TRUE(InitParams(job.graph, job.info, &e.model->params, rng).ok());
  }
  return e;
}

std::unique_ptr<SearchStrategy> Morphism(const nlohmann::json& params) {
  absl::StatusOr<std::unique_ptr<SearchStrategy>> s = MorphismStrategy::Make(params);
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

// Small models: the annealing morphs real weights, and ToyFitness rewards
// parameters, so unbounded children would only make the test slow.
const nlohmann::json kSmallMorphism = {{"max_mflops", 3}, {"space", {{"max_mflops", 1}}}};

TEST(MorphismStrategyTest, ChildrenInheritTheirParentsMorphedWeightsAndShortTraining) {
  std::vector<EvaluationJob> jobs;
  std::vector<bool> inherited;
  std::vector<int> epochs;
  InMemorySearchContext ctx(ToySettings(3, 12), [&](const EvaluationJob& job) {
    inherited.push_back(job.initial_weights != nullptr);
    epochs.push_back(job.training.epochs);
    return ToyTraining(job);
  });
  nlohmann::json params = kSmallMorphism;
  params["child_epochs"] = 2;
  ASSERT_TRUE(Morphism(params)->Run(ctx).ok());
  ASSERT_EQ(inherited.size(), 12u);
  for (size_t i = 0; i < inherited.size(); ++i) {
    EXPECT_EQ(inherited[i], i >= 3) << i;
    EXPECT_EQ(epochs[i], i >= 3 ? 2 : ToySettings(3, 12).training.epochs) << i;
  }
  // Every graph is new.
  std::set<std::string> hashes;
  for (const Graph& g : ctx.evaluated()) hashes.insert(*CanonicalHash(g));
  EXPECT_EQ(hashes.size(), ctx.evaluated().size());
  ASSERT_TRUE(ctx.last_checkpoint().has_value());
  EXPECT_EQ(ctx.last_checkpoint()->state["models"].size(), 12u);
  EXPECT_THAT(ctx.progress().back().message, HasSubstr("best reward"));
}

TEST(MorphismStrategyTest, ResumesAfterACrashToTheSameChildren) {
  InMemorySearchContext whole(ToySettings(5, 10), ToyTraining);
  ASSERT_TRUE(Morphism(kSmallMorphism)->Run(whole).ok());
  InMemorySearchContext crashed(ToySettings(5, 10), ToyTraining);
  crashed.CrashAfter(6);
  ASSERT_TRUE(Morphism(kSmallMorphism)->Run(crashed).ok());
  ASSERT_TRUE(crashed.last_checkpoint().has_value());
  InMemorySearchContext resumed(ToySettings(5, 10), ToyTraining);
  resumed.SeedCheckpoint(*crashed.last_checkpoint());
  resumed.SeedCache(crashed.cache());
  resumed.SeedModels(crashed.models());
  const absl::Status s = Morphism(kSmallMorphism)->Run(resumed);
  ASSERT_TRUE(s.ok()) << s;
  std::vector<std::string> a, b;
  for (const Graph& g : whole.evaluated()) a.push_back(*CanonicalHash(g));
  for (const Graph& g : resumed.evaluated()) b.push_back(*CanonicalHash(g));
  ASSERT_GE(b.size(), 4u);
  // The resumed run ends as the whole one did.
  EXPECT_EQ(std::vector<std::string>(a.end() - 4, a.end()), std::vector<std::string>(b.end() - 4, b.end()));
}

TEST(MorphismStrategyTest, BadParametersAreRefusedByName) {
  for (auto [params, message] : std::vector<std::pair<nlohmann::json, std::string>>{
           {{{"beta", -1}}, "beta"},
           {{{"child_epochs", 0}}, "child_epochs"},
           {{{"annealing", {{"cooling", 2}}}}, "annealing.cooling"},
           {{{"annealing", {{"min_temperature", 5}}}}, "annealing.min_temperature"},
           {{{"space", {{"max_mflops", 40}}}}, "space.max_mflops"},
           {{{"deepen_batch_norm", 1}}, "deepen_batch_norm: must be true or false"},
           {{{"widen", 1}}, "widen"}}) {
    const absl::Status s = MorphismStrategy::ValidateParams(params);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << params;
    EXPECT_THAT(std::string(s.message()), HasSubstr(message)) << params;
  }
  EXPECT_TRUE(MorphismStrategy::ValidateParams({{"batch", 2}, {"space", {{"max_blocks", 4}}}}).ok());
}

TEST(MorphismStrategyTest, ABatchTrainsSeveralDifferentChildrenAtOnce) {
  InMemorySearchContext ctx(ToySettings(2, 11), ToyTraining);
  nlohmann::json params = kSmallMorphism;
  params["batch"] = 4;
  ASSERT_TRUE(Morphism(params)->Run(ctx).ok());
  EXPECT_EQ(ctx.evaluated().size(), 11u);
  std::set<std::string> hashes;
  for (const Graph& g : ctx.evaluated()) hashes.insert(*CanonicalHash(g));
  EXPECT_EQ(hashes.size(), 11u);
}

}  // namespace
}  // namespace morphism
}  // namespace edgenas
