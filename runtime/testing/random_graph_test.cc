#include "runtime/testing/random_graph.h"

#include <algorithm>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_json.h"

namespace edgenas {
namespace {

constexpr int kSeeds = 200;

Graph FromSeed(uint64_t seed, const RandomGraphOptions& options = RandomGraphOptions(),
               RandomGraphStats* stats = nullptr) {
  std::mt19937_64 rng(seed);
  return RandomGraph(rng, options, stats);
}

// The generator names nodes "n<count>_<what>[/<part>]"; the graph input is -1.
int CreationId(const std::string& name) {
  if (name == kInputName) return -1;
  return std::stoi(name.substr(1, name.find('_') - 1));
}

TEST(RandomGraphTest, EveryGraphPassesAnalysisWithinItsBudget) {
  const RandomGraphOptions options;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    RandomGraphStats stats;
    Graph g = FromSeed(seed, options, &stats);
    absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
    ASSERT_TRUE(info.ok()) << "seed " << seed << ": " << info.status() << "\n" << GraphToJson(g);
    EXPECT_EQ(stats.invalid_steps, 0) << "seed " << seed;
    EXPECT_LE(static_cast<int>(g.nodes.size()), options.max_nodes) << "seed " << seed;
    EXPECT_EQ(g.input, options.input);
    EXPECT_EQ(g.num_classes, options.num_classes);
    // Cheap to run: no value is large.
    for (const NodeInfo& n : info->nodes)
      EXPECT_LE(n.shape.elements(), 64 * 16 * 16) << "seed " << seed;
  }
}

TEST(RandomGraphTest, OtherOptionsAreHonoured) {
  RandomGraphOptions options;
  options.input = Shape3{1, 28, 20};
  options.num_classes = 3;
  options.max_nodes = 60;
  options.max_channels = 12;
  int largest = 0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Graph g = FromSeed(seed, options);
    absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
    ASSERT_TRUE(info.ok()) << "seed " << seed << ": " << info.status();
    EXPECT_EQ(g.input, options.input);
    EXPECT_EQ(info->nodes[info->output].shape.elements(), 3);
    EXPECT_LE(static_cast<int>(g.nodes.size()), 60);
    largest = std::max(largest, static_cast<int>(g.nodes.size()));
    // Only the flat head may be wider than max_channels.
    for (const NodeInfo& n : info->nodes) {
      if (!n.shape.flat && n.shape.height > 1) {
        EXPECT_LE(n.shape.channels, 12) << "seed " << seed;
      }
    }
  }
  EXPECT_GT(largest, 30);  // the larger budget is used
}

TEST(RandomGraphTest, OddInputShapesGiveValidGraphs) {
  for (Shape3 input : {Shape3{1, 1, 1}, Shape3{5, 3, 7}, Shape3{40, 8, 8}, Shape3{2, 33, 2}}) {
    RandomGraphOptions options;
    options.input = input;
    for (uint64_t seed = 0; seed < 50; ++seed) {
      RandomGraphStats stats;
      Graph g = FromSeed(seed, options, &stats);
      absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
      ASSERT_TRUE(info.ok()) << input.channels << "x" << input.height << "x" << input.width
                             << " seed " << seed << ": " << info.status();
      EXPECT_EQ(stats.invalid_steps, 0);
    }
  }
}

TEST(RandomGraphTest, TinyBudgetsStillGiveValidGraphs) {
  for (int max_nodes : {0, 1, 2, 3, 4, 5}) {
    RandomGraphOptions options;
    options.max_nodes = max_nodes;
    for (uint64_t seed = 0; seed < 20; ++seed) {
      Graph g = FromSeed(seed, options);
      ASSERT_TRUE(AnalyzeGraph(g).ok()) << max_nodes << " " << seed << "\n" << GraphToJson(g);
      EXPECT_LE(static_cast<int>(g.nodes.size()), std::max(1, max_nodes));
    }
  }
}

TEST(RandomGraphTest, SameSeedSameGraphOtherSeedOtherGraph) {
  for (uint64_t seed : {0u, 1u, 17u, 123456789u}) {
    const std::string a = GraphToJson(FromSeed(seed));
    EXPECT_EQ(a, GraphToJson(FromSeed(seed)));
    EXPECT_NE(a, GraphToJson(FromSeed(seed + 1)));
  }
  // The generator continues from the rng's state: two draws differ.
  std::mt19937_64 rng(5);
  const std::string first = GraphToJson(RandomGraph(rng, RandomGraphOptions()));
  EXPECT_NE(first, GraphToJson(RandomGraph(rng, RandomGraphOptions())));
}

TEST(RandomGraphTest, ReachesEveryOpEveryBlockAndTheInterestingCases) {
  std::set<OpKind> ops;
  std::set<std::string> blocks;
  int depthwise = 0, grouped = 0, dilated = 0, strided = 0, rect_kernel = 0, no_bias = 0;
  int broadcast_multiply = 0, same_shape_multiply = 0, odd_concat = 0, three_way = 0;
  int trailing_softmax = 0, unordered = 0, long_skip = 0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    Graph g = FromSeed(seed);
    absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
    ASSERT_TRUE(info.ok()) << info.status();
    if (info->order != [&] {
          std::vector<int> v(g.nodes.size());
          for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int>(i);
          return v;
        }())
      ++unordered;
    if (g.nodes[info->output].op == OpKind::kSoftmax) ++trailing_softmax;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& n = g.nodes[i];
      ops.insert(n.op);
      const size_t slash = n.name.find('/');
      if (slash != std::string::npos)
        blocks.insert(n.name.substr(n.name.find('_') + 1, slash - n.name.find('_') - 1));
      std::vector<ValueShape> in;
      for (int src : info->nodes[i].inputs)
        in.push_back(src == kGraphInput ? info->input_shape : info->nodes[src].shape);
      if (n.op == OpKind::kConv) {
        const int cin = in[0].channels;
        if (n.conv.groups == cin && cin > 1) ++depthwise;
        if (n.conv.groups > 1 && n.conv.groups < cin) ++grouped;
        if (n.conv.dilation_h > 1 || n.conv.dilation_w > 1) ++dilated;
        if (n.conv.stride_h > 1 || n.conv.stride_w > 1) ++strided;
        if (n.conv.kernel_h != n.conv.kernel_w) ++rect_kernel;
        if (!n.conv.bias) ++no_bias;
      }
      if (n.op == OpKind::kMultiply) ++(in[0] == in[1] ? same_shape_multiply : broadcast_multiply);
      if (n.op == OpKind::kConcat) {
        for (const ValueShape& s : in)
          if (s.channels % 16 != 0) ++odd_concat;
      }
      if ((n.op == OpKind::kAdd || n.op == OpKind::kConcat) && n.inputs.size() >= 3) ++three_way;
      // A merge reading a node made many steps before it (names carry the
      // creation count: residuals, branches and blocks span at most 8).
      if (n.op == OpKind::kAdd || n.op == OpKind::kConcat) {
        for (const std::string& src : n.inputs)
          if (CreationId(n.name) - CreationId(src) > 10) ++long_skip;
      }
    }
  }
  for (const std::string& name : AllOpNames())
    EXPECT_TRUE(ops.count(*OpFromName(name))) << name << " never generated";
  for (const char* block : {"se", "dw_separable", "mbconv", "fire", "shuffle_unit"})
    EXPECT_TRUE(blocks.count(block)) << block << " never generated";
  EXPECT_GT(depthwise, 0);
  EXPECT_GT(grouped, 0);
  EXPECT_GT(dilated, 0);
  EXPECT_GT(strided, 0);
  EXPECT_GT(rect_kernel, 0);
  EXPECT_GT(no_bias, 0);
  EXPECT_GT(broadcast_multiply, 0);
  EXPECT_GT(same_shape_multiply, 0);
  EXPECT_GT(odd_concat, 0);
  EXPECT_GT(three_way, 0);
  EXPECT_GT(trailing_softmax, 0);
  EXPECT_GT(unordered, 0);
  EXPECT_GT(long_skip, 0);
}

}  // namespace
}  // namespace edgenas
