// Every morph on every preset and on 30 seeded random graphs, wherever
// MorphSites says it applies: the child's logits within kMorphTolerance of
// the parent's over 1,000 random inputs, the parent with random weights and
// batch-norm statistics. Where a morph does not apply, its refusal names a
// node. Prints the largest difference per morph.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/morph/morph.h"
#include "runtime/morph/testing/morph_check.h"
#include "runtime/testing/random_graph.h"

namespace edgenas {
namespace {

using ::testing::ContainsRegex;
using testing::kMorphTolerance;
using testing::MaxDifference;
using testing::RandomModel;

// Children run per (graph, morph): a seeded sample of the sites MorphSites
// lists, which keeps the sweep to seconds. EDGENAS_MORPH_SWEEP_SITES=N runs
// up to N per (graph, morph) instead, 0 every site (minutes: the skips are
// quadratic in the nodes).
constexpr int kPresetSitesPerKind = 2;
constexpr int kRandomSitesPerKind = 1;
constexpr int kRandomGraphs = 30;

size_t SitesPerKind(int fallback) {
  const char* env = std::getenv("EDGENAS_MORPH_SWEEP_SITES");
  if (env == nullptr || *env == '\0') return fallback;
  const int n = std::atoi(env);
  return n <= 0 ? std::numeric_limits<size_t>::max() : static_cast<size_t>(n);
}

struct Tally {
  int listed = 0, run = 0;
  double max_diff = 0;
};

absl::StatusOr<Model> Apply(const Model& parent, const GraphInfo& info, const MorphSite& site) {
  switch (site.kind) {
    case MorphKind::kDeepen: {
      DeepenOptions o;
      o.after = site.node;
      return Deepen(parent, o);
    }
    case MorphKind::kWiden: {
      WidenOptions o;
      o.node = site.node;
      const int n = info.nodes[parent.graph.Find(site.node)].shape.channels;
      o.width = n + std::max(1, n / 2);
      return Widen(parent, o);
    }
    case MorphKind::kSkipAdd:
    case MorphKind::kSkipConcat: {
      SkipOptions o;
      o.from = site.node;
      o.to = site.to;
      o.kind = site.kind == MorphKind::kSkipAdd ? SkipKind::kAdd : SkipKind::kConcat;
      return AddSkip(parent, o);
    }
    case MorphKind::kEnlarge: {
      EnlargeOptions o;
      o.node = site.node;
      return EnlargeKernel(parent, o);
    }
  }
  return absl::InternalError("unknown morph");
}

// Where a morph is not listed, asking for it must say which node and why.
void ExpectRefusalsNameANode(const Graph& g, const std::vector<MorphSite>& sites) {
  auto listed = [&](MorphKind kind, const std::string& node) {
    return std::any_of(sites.begin(), sites.end(),
                       [&](const MorphSite& s) { return s.kind == kind && s.node == node; });
  };
  for (const Node& n : g.nodes) {
    DeepenOptions d;
    d.after = n.name;
    EnlargeOptions e;
    e.node = n.name;
    for (auto [kind, status] : {std::pair{MorphKind::kDeepen, CheckDeepen(g, d)},
                                {MorphKind::kWiden, CheckWiden(g, n.name)},
                                {MorphKind::kEnlarge, CheckEnlarge(g, e)}}) {
      EXPECT_EQ(status.ok(), listed(kind, n.name)) << MorphKindName(kind) << " " << n.name;
      if (!status.ok()) {
        EXPECT_THAT(std::string(status.message()), ContainsRegex("(node '[^']+' is a|'input')"))
            << status;
      }
    }
  }
}

void Sweep(const std::string& label, const Graph& graph, uint64_t seed, size_t per_kind,
           std::map<MorphKind, Tally>* tallies) {
  SCOPED_TRACE(label);
  Model parent = RandomModel(graph, seed);
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  ASSERT_TRUE(info.ok()) << info.status();
  absl::StatusOr<std::vector<MorphSite>> sites = MorphSites(graph);
  ASSERT_TRUE(sites.ok()) << sites.status();
  ExpectRefusalsNameANode(graph, *sites);
  std::map<MorphKind, std::vector<MorphSite>> by_kind;
  for (const MorphSite& s : *sites) by_kind[s.kind].push_back(s);
  std::mt19937_64 rng(seed);
  const testing::ParentRun run = testing::RunParent(parent, seed + 1);
  for (auto& [kind, list] : by_kind) {
    Tally& t = (*tallies)[kind];
    t.listed += static_cast<int>(list.size());
    std::shuffle(list.begin(), list.end(), rng);
    list.resize(std::min(per_kind, list.size()));
    for (const MorphSite& site : list) {
      SCOPED_TRACE(::testing::Message() << MorphKindName(kind) << " " << site.node << " "
                                        << site.to);
      absl::StatusOr<Model> child = Apply(parent, *info, site);
      ASSERT_TRUE(child.ok()) << "a listed site failed: " << child.status();
      const double d = MaxDifference(run, *child);
      EXPECT_LE(d, kMorphTolerance);
      ++t.run;
      t.max_diff = std::max(t.max_diff, d);
    }
  }
}

void Report(const char* what, const std::map<MorphKind, Tally>& tallies) {
  for (const auto& [kind, t] : tallies)
    std::printf("%s %-11s sites listed %4d, run %3d, largest |parent - child| %.3g\n", what,
                MorphKindName(kind), t.listed, t.run, t.max_diff);
}

TEST(MorphSweep, EveryPreset) {
  std::map<MorphKind, Tally> tallies;
  for (const std::string& name : PresetNames()) {
    absl::StatusOr<Graph> g = Preset(name);
    ASSERT_TRUE(g.ok());
    Sweep(name, *g, 17, SitesPerKind(kPresetSitesPerKind), &tallies);
  }
  Report("presets", tallies);
  for (MorphKind kind : {MorphKind::kDeepen, MorphKind::kWiden, MorphKind::kSkipAdd,
                         MorphKind::kSkipConcat, MorphKind::kEnlarge})
    EXPECT_GT(tallies[kind].run, 0) << MorphKindName(kind) << " applies to no preset";
}

TEST(MorphSweep, ThirtySeededRandomGraphs) {
  std::map<MorphKind, Tally> tallies;
  for (int seed = 1; seed <= kRandomGraphs; ++seed) {
    std::mt19937_64 rng(seed);
    const Graph g = RandomGraph(rng, RandomGraphOptions());
    Sweep("random graph " + std::to_string(seed), g, seed, SitesPerKind(kRandomSitesPerKind),
          &tallies);
  }
  Report("random", tallies);
  for (MorphKind kind : {MorphKind::kDeepen, MorphKind::kWiden, MorphKind::kSkipAdd,
                         MorphKind::kSkipConcat, MorphKind::kEnlarge})
    EXPECT_GT(tallies[kind].run, 0) << MorphKindName(kind) << " applies to no random graph";
}

}  // namespace
}  // namespace edgenas
