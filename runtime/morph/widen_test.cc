// Widen against the unmorphed net's outputs, through every kind of value
// path it follows, and its refusals.
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/graph/blocks.h"
#include "runtime/morph/morph.h"
#include "runtime/morph/testing/morph_check.h"

namespace edgenas {
namespace {

using ::testing::HasSubstr;
using testing::kMorphTolerance;
using testing::MaxDifference;
using testing::PresetModel;
using testing::RandomModel;

absl::StatusOr<Model> WidenTo(const Model& m, const std::string& node, int width,
                              float noise = 0, uint64_t seed = 1) {
  WidenOptions o;
  o.node = node;
  o.width = width;
  o.noise = noise;
  o.seed = seed;
  return Widen(m, o);
}

TEST(Widen, ConvReplicatesChannelsAndItsReadersDivide) {
  Model parent = PresetModel("cnn-bn");
  absl::StatusOr<Model> child = WidenTo(parent, "conv1", 48);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(child->graph.nodes[child->graph.Find("conv1")].conv.out_channels, 48);
  const ParamTensor& w = *child->params.Find("conv1/weight");
  const ParamTensor& gamma = *child->params.Find("bn1/gamma");
  const ParamTensor& mean = *child->params.Find("bn1/running_mean");
  const ParamTensor& next = *child->params.Find("conv2/weight");
  const ParamTensor& old_next = *parent.params.Find("conv2/weight");
  ASSERT_EQ(gamma.size(), 48);
  EXPECT_EQ(next.dims, (std::vector<int64_t>{64, 48, 3, 3}));
  // Each new channel j >= 32 copies some channel g(j) < 32: its weights, its
  // batch-norm tensors; conv2 sees g(j) split over its replicas.
  const int per_channel = 9;  // 1 input channel x 3 x 3
  for (int j = 32; j < 48; ++j) {
    int g = -1;
    for (int c = 0; c < 32 && g < 0; ++c)
      if (std::equal(w.values.begin() + j * per_channel, w.values.begin() + (j + 1) * per_channel,
                     w.values.begin() + c * per_channel))
        g = c;
    ASSERT_GE(g, 0) << "channel " << j << " copies no channel";
    EXPECT_EQ(gamma.values[j], gamma.values[g]);
    EXPECT_EQ(mean.values[j], mean.values[g]);
    // conv2's weight (o=0, i, 0, 0) for the replicas of g sums to the parent's.
    float sum = 0;
    for (int i = 0; i < 48; ++i)
      if (std::equal(w.values.begin() + i * per_channel, w.values.begin() + (i + 1) * per_channel,
                     w.values.begin() + g * per_channel))
        sum += next.values[i * 9];
    EXPECT_NEAR(sum, old_next.values[g * 9], 1e-6);
  }
  EXPECT_LE(MaxDifference(parent, *child), kMorphTolerance);
}

TEST(Widen, ThroughPoolsFlattenDenseAndDepthwiseConvs) {
  struct Case {
    const char* preset;
    const char* node;
    int width;
  };
  for (const Case& c : {Case{"cnn-bn", "conv2", 80},          // pool2 -> fc1 reads (C, 7, 7)
                        Case{"cnn-bn", "fc1", 200},           // flat units
                        Case{"lenet-300-100", "fc1", 301},    // one replica
                        Case{"lenet5", "conv1", 50},          // more than doubled
                        Case{"mobile-tiny", "stem/conv", 24},  // into ds1's depthwise conv
                        Case{"mobile-tiny", "ds3/pw/conv", 160},  // mb1's add: project widened too
                        Case{"mobile-tiny", "mb1/expand/conv", 600}}) {
    SCOPED_TRACE(::testing::Message() << c.preset << " " << c.node);
    Model parent = PresetModel(c.preset);
    absl::StatusOr<Model> child = WidenTo(parent, c.node, c.width);
    ASSERT_TRUE(child.ok()) << child.status();
    EXPECT_LE(MaxDifference(parent, *child), kMorphTolerance);
  }
}

TEST(Widen, DepthwiseConvsWidenTheirGroupsAndResidualsTheirOtherBranch) {
  Model parent = PresetModel("mobile-tiny");
  absl::StatusOr<Model> child = WidenTo(parent, "ds1/pw/conv", 40);
  ASSERT_TRUE(child.ok()) << child.status();
  const ConvAttrs& dw = child->graph.nodes[child->graph.Find("ds2/dw/conv")].conv;
  EXPECT_EQ(dw.groups, 40);
  EXPECT_EQ(dw.out_channels, 40);
  EXPECT_EQ(child->graph.nodes[child->graph.Find("ds2/pw/conv")].conv.out_channels, 64);
  absl::StatusOr<Model> residual = WidenTo(parent, "ds3/pw/conv", 130);
  ASSERT_TRUE(residual.ok()) << residual.status();
  EXPECT_EQ(residual->graph.nodes[residual->graph.Find("mb1/project/conv")].conv.out_channels, 130);
}

// stem -> MBConv with squeeze-and-excite -> Fire -> head.
Graph SeFireGraph() {
  Graph g;
  g.input = Shape3{3, 10, 10};
  g.num_classes = 5;
  GraphBuilder b(&g);
  std::string x = b.ConvBnAct("stem", "input", 3, 8, 3, 1, 1, OpKind::kRelu);
  x = b.MBConv("mb", x, 8, 8, 3, 3, 1, 0.25, OpKind::kHardSwish);
  x = b.Fire("fire", x, 4, 6, 6);
  x = b.Op("gap", OpKind::kGlobalAvgPool, {x});
  b.Dense("fc", x, 5);
  return g;
}

TEST(Widen, ThroughSqueezeExciteBroadcastAndFireConcat) {
  Model parent = RandomModel(SeFireGraph(), 5);
  for (auto [node, width] : {std::pair{"mb/expand/conv", 30},  // SE: the gate's expand too
                             {"mb/se/expand", 30},              // the gate: its input too
                             {"mb/se/reduce", 5},
                             {"fire/squeeze", 9},
                             {"fire/e1", 10},                   // concat: first part
                             {"fire/e3", 7},                    // concat: second part
                             {"stem/conv", 12}}) {              // stem -> mb's residual add
    SCOPED_TRACE(node);
    absl::StatusOr<Model> child = WidenTo(parent, node, width);
    ASSERT_TRUE(child.ok()) << child.status();
    EXPECT_LE(MaxDifference(parent, *child), kMorphTolerance);
  }
  absl::StatusOr<Model> se = WidenTo(parent, "mb/expand/conv", 30);
  ASSERT_TRUE(se.ok());
  EXPECT_EQ(se->graph.nodes[se->graph.Find("mb/se/expand")].conv.out_channels, 30);
  EXPECT_EQ(se->graph.nodes[se->graph.Find("mb/dw/conv")].conv.groups, 30);
}

TEST(Widen, NoiseBreaksReplicaSymmetryAndKeepsTheFunction) {
  Model parent = PresetModel("cnn-bn");
  absl::StatusOr<Model> exact = WidenTo(parent, "conv2", 96, 0, 3);
  absl::StatusOr<Model> noisy = WidenTo(parent, "conv2", 96, 0.1f, 3);
  ASSERT_TRUE(exact.ok() && noisy.ok());
  const ParamTensor& a = *exact->params.Find("fc1/weight");
  const ParamTensor& b = *noisy->params.Find("fc1/weight");
  ASSERT_EQ(a.dims, b.dims);
  int changed = 0;
  for (int64_t i = 0; i < a.size(); ++i) changed += a.values[i] != b.values[i];
  EXPECT_GT(changed, 0);
  // The incoming weights stay replicas; only the readers' weights move.
  EXPECT_EQ(exact->params.Find("conv2/weight")->values, noisy->params.Find("conv2/weight")->values);
  const double d = MaxDifference(parent, *noisy);
  std::printf("widen conv2 to 96 with noise 0.1: largest difference %.3g\n", d);
  EXPECT_LE(d, kMorphTolerance);
}

TEST(Widen, TheSeedFixesTheReplicas) {
  Model parent = PresetModel("cnn-bn");
  absl::StatusOr<Model> a = WidenTo(parent, "conv1", 40, 0, 9);
  absl::StatusOr<Model> b = WidenTo(parent, "conv1", 40, 0, 9);
  absl::StatusOr<Model> c = WidenTo(parent, "conv1", 40, 0, 10);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->params.Find("conv1/weight")->values, b->params.Find("conv1/weight")->values);
  EXPECT_NE(a->params.Find("conv1/weight")->values, c->params.Find("conv1/weight")->values);
}

TEST(Widen, RefusalsNameTheNodeAndTheReason) {
  Model cnn = PresetModel("cnn-bn");
  auto message = [](const Model& m, const std::string& node, int width) {
    absl::StatusOr<Model> child = WidenTo(m, node, width);
    EXPECT_FALSE(child.ok()) << node;
    return std::string(child.status().message());
  };
  EXPECT_THAT(message(cnn, "pool1", 40),
              HasSubstr("node 'pool1' is a max_pool: widen needs a conv or dense producer"));
  EXPECT_THAT(message(cnn, "fc2", 12),
              HasSubstr("node 'fc2' is a dense: it is the graph output: its 10 class outputs"));
  EXPECT_THAT(message(cnn, "conv1", 32), HasSubstr("width: 32 does not grow 'conv1'"));
  EXPECT_THAT(message(cnn, "nope", 32), HasSubstr("'nope' is not a node"));
  Model mobile = PresetModel("mobile-tiny");
  EXPECT_THAT(message(mobile, "ds2/dw/conv", 40),
              HasSubstr("node 'ds2/dw/conv' is a conv: a depthwise conv's width follows"));

  // A grouped conv and a channel shuffle downstream.
  Graph g;
  g.input = Shape3{4, 6, 6};
  g.num_classes = 3;
  GraphBuilder b(&g);
  std::string x = b.Conv("c1", "input", 8, 3);
  std::string y = b.Conv("grouped", x, 8, 3, 1, -1, 2);
  b.Op("shuffle", OpKind::kChannelShuffle, {b.Conv("c2", y, 8, 1)});
  g.nodes.back().shuffle_groups = 2;
  b.Dense("fc", b.Op("gap", OpKind::kGlobalAvgPool, {"shuffle"}), 3);
  Model m = RandomModel(g, 2);
  EXPECT_THAT(message(m, "c1", 10), HasSubstr("widen 'c1': node 'grouped' is a conv: a grouped conv (groups 2)"));
  EXPECT_THAT(message(m, "c2", 10),
              HasSubstr("widen 'c2': node 'shuffle' is a channel_shuffle: a channel shuffle"));
  EXPECT_THAT(message(m, "grouped", 10), HasSubstr("node 'grouped' is a conv: a grouped conv"));
}

}  // namespace
}  // namespace edgenas
