// Deepen against the unmorphed net's outputs, and its refusals.
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

absl::StatusOr<Model> DeepenAfter(const Model& m, const std::string& after,
                                  DeepenLayer layer = DeepenLayer::kAuto) {
  DeepenOptions o;
  o.after = after;
  o.layer = layer;
  return Deepen(m, o);
}

TEST(Deepen, ConvAfterReluKeepsOutputsAndAddsConvBnRelu) {
  Model parent = PresetModel("cnn-bn");
  absl::StatusOr<Model> child = DeepenAfter(parent, "relu1");
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(child->graph.nodes.size(), parent.graph.nodes.size() + 3);
  const int conv = child->graph.Find("relu1_deepen1/conv");
  ASSERT_GE(conv, 0);
  EXPECT_EQ(child->graph.nodes[conv].conv.kernel_h, 3);
  EXPECT_EQ(child->graph.nodes[child->graph.Find("relu1_deepen1/act")].op, OpKind::kRelu);
  EXPECT_EQ(child->graph.nodes[child->graph.Find("pool1")].inputs[0], "relu1_deepen1/act");
  EXPECT_EQ(child->metadata.provenance.at("morph"), "deepen after relu1 with conv + relu");
  EXPECT_LE(MaxDifference(parent, *child), kMorphTolerance);
}

TEST(Deepen, EveryLayerKindIsExact) {
  struct Case {
    const char* preset;
    const char* after;
    DeepenLayer layer;
    int kernel;
    bool bn;
  };
  for (const Case& c : {Case{"cnn-bn", "pool1", DeepenLayer::kConv, 5, true},
                        Case{"cnn-bn", "relu2", DeepenLayer::kDepthwiseSeparable, 3, true},
                        Case{"cnn-bn", "relu3", DeepenLayer::kDense, 3, true},
                        Case{"cnn-bn", "relu3", DeepenLayer::kDense, 3, false},
                        Case{"cnn-bn", "input", DeepenLayer::kConv, 3, false},
                        Case{"lenet-300-100", "flatten", DeepenLayer::kAuto, 3, true},
                        Case{"mobile-tiny", "ds1/pw/act", DeepenLayer::kDepthwiseSeparable, 5, true},
                        Case{"mobile-tiny", "mb1/project/bn", DeepenLayer::kConv, 1, true}}) {
    SCOPED_TRACE(::testing::Message() << c.preset << " after " << c.after);
    Model parent = PresetModel(c.preset);
    DeepenOptions o;
    o.after = c.after;
    o.layer = c.layer;
    o.kernel = c.kernel;
    o.batch_norm = c.bn;
    absl::StatusOr<Model> child = Deepen(parent, o);
    ASSERT_TRUE(child.ok()) << child.status();
    EXPECT_GT(child->graph.nodes.size(), parent.graph.nodes.size());
    EXPECT_LE(MaxDifference(parent, *child), kMorphTolerance);
  }
}

TEST(Deepen, AgainNamesTheNextPrefix) {
  Model parent = PresetModel("cnn-bn");
  absl::StatusOr<Model> once = DeepenAfter(parent, "relu1");
  ASSERT_TRUE(once.ok());
  absl::StatusOr<Model> twice = DeepenAfter(*once, "relu1");
  ASSERT_TRUE(twice.ok()) << twice.status();
  EXPECT_GE(twice->graph.Find("relu1_deepen2/conv"), 0);
  // The second layer sits between relu1 and the first one.
  EXPECT_EQ(twice->graph.nodes[twice->graph.Find("relu1_deepen1/conv")].inputs[0],
            "relu1_deepen2/act");
  EXPECT_LE(MaxDifference(parent, *twice), kMorphTolerance);
}

// A graph whose first activation is `act`, for the refusals.
Model WithActivation(OpKind act) {
  Graph g;
  g.input = Shape3{2, 6, 6};
  g.num_classes = 3;
  GraphBuilder b(&g);
  std::string x = b.Act("act", b.Conv("conv", "input", 4, 3), act);
  b.Dense("fc", x, 3);
  return testing::RandomModel(g, 3);
}

TEST(Deepen, RefusesAfterNonIdempotentActivationsAndSaysWhy) {
  for (OpKind act : {OpKind::kSigmoid, OpKind::kTanh, OpKind::kHardSigmoid, OpKind::kElu,
                     OpKind::kHardSwish}) {
    SCOPED_TRACE(OpName(act));
    Model parent = WithActivation(act);
    absl::StatusOr<Model> child = DeepenAfter(parent, "act");
    ASSERT_FALSE(child.ok());
    EXPECT_EQ(child.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(child.status().message(),
                HasSubstr(std::string("node 'act' is a ") + OpName(act) + ": "));
    EXPECT_THAT(child.status().message(), HasSubstr("!="));
    // A linear layer is exact there.
    DeepenOptions linear;
    linear.after = "act";
    linear.activation = DeepenActivation::kNone;
    absl::StatusOr<Model> ok = Deepen(parent, linear);
    ASSERT_TRUE(ok.ok()) << ok.status();
    EXPECT_LE(MaxDifference(parent, *ok), kMorphTolerance);
  }
  for (OpKind act : {OpKind::kRelu, OpKind::kRelu6}) {
    Model parent = WithActivation(act);
    absl::StatusOr<Model> child = DeepenAfter(parent, "act");
    ASSERT_TRUE(child.ok()) << child.status();
    EXPECT_EQ(child->graph.nodes[child->graph.Find("act_deepen1/act")].op, act);
    EXPECT_LE(MaxDifference(parent, *child), kMorphTolerance);
  }
}

TEST(Deepen, RefusalsNameTheNodeAndTheReason) {
  Model parent = PresetModel("cnn-bn");
  auto message = [&](const std::string& after, DeepenLayer layer) {
    absl::StatusOr<Model> child = DeepenAfter(parent, after, layer);
    EXPECT_FALSE(child.ok());
    return std::string(child.status().message());
  };
  EXPECT_THAT(message("fc2", DeepenLayer::kAuto),
              HasSubstr("node 'fc2' is a dense: it is the graph output"));
  EXPECT_THAT(message("relu3", DeepenLayer::kConv),
              HasSubstr("node 'relu3' is a relu: its value is flat (128): a conv needs"));
  EXPECT_THAT(message("pool2", DeepenLayer::kDense),
              HasSubstr("node 'pool2' is a max_pool: its value is (64, 7, 7): a dense would"));
  absl::StatusOr<Model> unknown = DeepenAfter(parent, "nope");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("deepen: 'nope' is not a node"));
  DeepenOptions even;
  even.after = "relu1";
  even.kernel = 4;
  EXPECT_THAT(std::string(Deepen(parent, even).status().message()), HasSubstr("kernel: 4"));
}

}  // namespace
}  // namespace edgenas
