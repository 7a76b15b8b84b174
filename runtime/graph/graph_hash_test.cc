#include "runtime/graph/graph_hash.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/blocks.h"
#include "runtime/graph/graph_json.h"
#include "runtime/graph/presets.h"
#include "runtime/testing/random_graph.h"

namespace edgenas {
namespace {

std::string Hash(const Graph& g) {
  absl::StatusOr<std::string> h = CanonicalHash(g);
  EXPECT_TRUE(h.ok()) << h.status() << "\n" << GraphToJson(g);
  return h.ok() ? *h : "";
}

// Renames every node (inputs and output follow).
Graph Renamed(const Graph& g, const std::string& prefix) {
  std::map<std::string, std::string> to;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    to[g.nodes[i].name] = prefix + std::to_string(g.nodes.size() - i);
  Graph r = g;
  for (Node& n : r.nodes) {
    n.name = to[n.name];
    for (std::string& in : n.inputs)
      if (in != kInputName) in = to[in];
  }
  r.output = to[g.OutputName()];
  return r;
}

Graph Shuffled(const Graph& g, uint64_t seed) {
  Graph r = g;
  r.output = g.OutputName();
  std::mt19937_64 rng(seed);
  std::shuffle(r.nodes.begin(), r.nodes.end(), rng);
  return r;
}

// Swaps the inputs of every add (they commute).
Graph AddsSwapped(const Graph& g) {
  Graph r = g;
  for (Node& n : r.nodes)
    if (n.op == OpKind::kAdd) std::reverse(n.inputs.begin(), n.inputs.end());
  return r;
}

TEST(GraphHashTest, Is32HexCharactersAndStable) {
  const std::string h = Hash(*Preset("lenet5"));
  ASSERT_EQ(h.size(), 32u);
  for (char c : h) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << h;
  EXPECT_EQ(h, Hash(*Preset("lenet5")));
  GraphInfo info = *AnalyzeGraph(*Preset("lenet5"));
  EXPECT_EQ(CanonicalHash(*Preset("lenet5"), info), h);
}

TEST(GraphHashTest, RefusesAnInvalidGraph) {
  Graph g = *Preset("lenet5");
  g.nodes[0].conv.kernel_h = 0;
  EXPECT_FALSE(CanonicalHash(g).ok());
}

TEST(GraphHashTest, NamesListOrderAndAddOrderDoNotMatter) {
  std::vector<Graph> graphs;
  for (const std::string& name : PresetNames()) graphs.push_back(*Preset(name));
  for (uint64_t seed = 0; seed < 100; ++seed) {
    std::mt19937_64 rng(seed);
    graphs.push_back(RandomGraph(rng, RandomGraphOptions()));
  }
  int adds = 0;
  for (size_t k = 0; k < graphs.size(); ++k) {
    const Graph& g = graphs[k];
    const std::string h = Hash(g);
    EXPECT_EQ(Hash(Renamed(g, "x")), h) << k;
    EXPECT_EQ(Hash(Shuffled(g, k)), h) << k;
    EXPECT_EQ(Hash(AddsSwapped(g)), h) << k;
    EXPECT_EQ(Hash(Shuffled(AddsSwapped(Renamed(g, "layer.")), k + 1)), h) << k;
    for (const Node& n : g.nodes) adds += n.op == OpKind::kAdd && n.inputs[0] != n.inputs[1];
  }
  EXPECT_GT(adds, 50);  // the add swaps were not all no-ops
}

// input 4x12x12 -> conv c1 (8, 3x3 same) -> bn -> elu -> max pool 2 ->
// shuffle(2) -> [sh + grouped conv c2] -> concat with a 1x1 conv c3 ->
// SE-style gate -> avg pool 3/1/1 -> dropout -> flatten -> dense 16 ->
// dense 5 -> softmax. Every op with attributes appears.
Graph Base() {
  Graph g;
  g.input = Shape3{4, 12, 12};
  g.num_classes = 5;
  GraphBuilder b(&g);
  std::string x = b.Conv("c1", "input", 8, 3, 1, 1);
  x = b.BatchNorm("bn", x);
  x = b.Act("elu", x, OpKind::kElu);
  x = b.Pool("mp", x, OpKind::kMaxPool, 2, 2);
  x = b.Op("sh", OpKind::kChannelShuffle, {x});
  std::string c2 = b.Conv("c2", x, 8, 3, 1, 1, 4);
  std::string a = b.Op("add", OpKind::kAdd, {x, c2});
  std::string c3 = b.Conv("c3", a, 3, 1);
  x = b.Op("cat", OpKind::kConcat, {a, c3});
  std::string s = b.Conv("se", b.Op("gap", OpKind::kGlobalAvgPool, {x}), 11, 1);
  s = b.Act("gate", s, OpKind::kSigmoid);
  x = b.Op("mul", OpKind::kMultiply, {x, s});
  x = b.Pool("ap", x, OpKind::kAvgPool, 3, 1, 1);
  x = b.Op("drop", OpKind::kDropout, {x});
  g.nodes.back().rate = 0.3f;
  x = b.Op("flat", OpKind::kFlatten, {x});
  x = b.Dense("d1", x, 16);
  x = b.Dense("d2", x, 5);
  b.Op("sm", OpKind::kSoftmax, {x});
  return g;
}

TEST(GraphHashTest, EveryAttributeInputShapeAndClassCountMatter) {
  Node& (*at)(Graph&, const char*) = [](Graph& g, const char* name) -> Node& {
    return g.nodes[g.Find(name)];
  };
  const std::vector<std::pair<std::string, std::function<void(Graph&)>>> changes = {
      {"conv kernel", [&](Graph& g) { at(g, "c1").conv.kernel_h = at(g, "c1").conv.kernel_w = 5; }},
      {"conv kernel_w", [&](Graph& g) { at(g, "c1").conv.kernel_w = 5; }},
      {"conv stride", [&](Graph& g) { at(g, "c1").conv.stride_h = at(g, "c1").conv.stride_w = 2; }},
      {"conv stride_w", [&](Graph& g) { at(g, "c1").conv.stride_w = 2; }},
      {"conv padding", [&](Graph& g) { at(g, "c1").conv.pad_h = at(g, "c1").conv.pad_w = 0; }},
      {"conv pad_w", [&](Graph& g) { at(g, "c1").conv.pad_w = 2; }},
      {"conv dilation", [&](Graph& g) { at(g, "c1").conv.dilation_h = 2; }},
      {"conv dilation_w", [&](Graph& g) { at(g, "c1").conv.dilation_w = 2; }},
      {"conv groups", [&](Graph& g) { at(g, "c2").conv.groups = 2; }},
      {"conv groups 1", [&](Graph& g) { at(g, "c1").conv.groups = 2; }},
      {"conv bias", [&](Graph& g) { at(g, "c1").conv.bias = false; }},
      {"conv out_channels",
       [&](Graph& g) {
         at(g, "c3").conv.out_channels = 5;
         at(g, "se").conv.out_channels = 13;
       }},
      {"dense units", [&](Graph& g) { at(g, "d1").dense.units = 17; }},
      {"dense bias", [&](Graph& g) { at(g, "d2").dense.bias = false; }},
      {"pool op", [&](Graph& g) { at(g, "mp").op = OpKind::kAvgPool; }},
      {"pool kernel", [&](Graph& g) { at(g, "mp").pool.kernel_h = at(g, "mp").pool.kernel_w = 3; }},
      {"pool stride", [&](Graph& g) { at(g, "ap").pool.stride_w = 2; }},
      {"pool padding", [&](Graph& g) { at(g, "ap").pool.pad_h = 0; }},
      {"bn epsilon", [&](Graph& g) { at(g, "bn").bn_epsilon = 1e-3f; }},
      {"bn momentum", [&](Graph& g) { at(g, "bn").bn_momentum = 0.01f; }},
      {"bn momentum ulp", [&](Graph& g) { at(g, "bn").bn_momentum = std::nextafter(0.1f, 1.0f); }},
      {"elu alpha", [&](Graph& g) { at(g, "elu").alpha = 0.5f; }},
      {"dropout rate", [&](Graph& g) { at(g, "drop").rate = 0.4f; }},
      {"dropout rate ulp", [&](Graph& g) { at(g, "drop").rate = std::nextafter(0.3f, 1.0f); }},
      {"shuffle groups", [&](Graph& g) { at(g, "sh").shuffle_groups = 4; }},
      {"activation kind", [&](Graph& g) { at(g, "gate").op = OpKind::kHardSigmoid; }},
      {"concat order",
       [&](Graph& g) { std::swap(at(g, "cat").inputs[0], at(g, "cat").inputs[1]); }},
      {"no softmax", [&](Graph& g) { g.nodes.pop_back(); }},
      {"wiring", [&](Graph& g) { at(g, "c3").inputs = {"sh"}; }},
      {"input height", [](Graph& g) { g.input.height = 13; }},
      {"input width", [](Graph& g) { g.input.width = 11; }},
      {"input channels", [](Graph& g) { g.input.channels = 2; }},
      {"class count",
       [&](Graph& g) {
         g.num_classes = 6;
         at(g, "d2").dense.units = 6;
       }},
  };
  const std::string base = Hash(Base());
  ASSERT_EQ(base.size(), 32u);
  std::set<std::string> seen = {base};
  for (const auto& [what, change] : changes) {
    Graph g = Base();
    change(g);
    absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
    ASSERT_TRUE(info.ok()) << what << ": " << info.status();
    const std::string h = Hash(g);
    EXPECT_NE(h, base) << what;
    EXPECT_TRUE(seen.insert(h).second) << what << " collides with another change";
  }
}

TEST(GraphHashTest, TwoHundredRandomGraphsHashApart) {
  std::map<std::string, uint64_t> seen;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::mt19937_64 rng(seed);
    const std::string h = Hash(RandomGraph(rng, RandomGraphOptions()));
    auto [it, inserted] = seen.emplace(h, seed);
    EXPECT_TRUE(inserted) << "seeds " << it->second << " and " << seed << " share " << h;
  }
}

}  // namespace
}  // namespace edgenas
