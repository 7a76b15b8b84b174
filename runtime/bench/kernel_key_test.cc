#include "runtime/bench/kernel_key.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/bench/kernel_profile.h"
#include "runtime/graph/blocks.h"
#include "runtime/graph/presets.h"

namespace edgenas {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Every block the search spaces use, plus odd convs and pools.
Graph Zoo() {
  Graph g;
  g.input = Shape3{3, 32, 32};
  g.num_classes = 10;
  GraphBuilder b(&g);
  std::string x = b.ConvBnAct("stem", "input", 3, 16, 3, 2, 1, OpKind::kRelu6);
  x = b.DepthwiseSeparable("ds", x, 16, 24, 5, 1);
  x = b.MBConv("mb", x, 24, 24, 3, 3, 1, 0.25);
  x = b.Fire("fire", x, 8, 16, 16);
  x = b.Pool("mp", x, OpKind::kMaxPool, 3, 2, 1);
  x = b.ShuffleUnit("sh", x, 32, 64, 2, 2);
  x = b.ShuffleUnit("sh1", x, 64, 64, 2, 1);  // add, then relu: both in the last conv
  x = b.Conv("dil", x, 16, 3, 1, 2, 1, true, 2);
  x = b.Conv("valid", x, 16, 3, 1, 0);
  x = b.Pool("ap", x, OpKind::kAvgPool, 2, 2);
  x = b.Op("gap", OpKind::kGlobalAvgPool, {x});
  x = b.Op("flat", OpKind::kFlatten, {x});
  x = b.Act("fc1_relu", b.Dense("fc1", x, 32), OpKind::kRelu);
  x = b.Op("res", OpKind::kAdd, {x, b.Dense("fc1b", x, 32)});  // a dense's add stays apart
  x = b.Op("drop", OpKind::kDropout, {x});
  b.Dense("fc2", x, 10);
  return g;
}

std::vector<std::string> Keys(const Graph& g) {
  absl::StatusOr<std::vector<std::string>> keys = InferenceKernelKeys(g);
  EXPECT_TRUE(keys.ok()) << keys.status();
  return keys.ok() ? *keys : std::vector<std::string>();
}

TEST(KernelKeyTest, KeysOfAMobileNetAreStable) {
  EXPECT_THAT(
      Keys(*Preset("mobile-tiny")),
      ElementsAre(
          "conv k3x3 s1 g1 c1>16 in1x28x28 +relu6", "conv k3x3 s2 g16 c16>16 in16x28x28 +relu6",
          "conv k1x1 s1 g1 c16>32 in16x14x14 +relu6", "conv k3x3 s2 g32 c32>32 in32x14x14 +relu6",
          "conv k1x1 s1 g1 c32>64 in32x7x7 +relu6", "conv k3x3 s1 g64 c64>64 in64x7x7 +relu6",
          "conv k1x1 s1 g1 c64>128 in64x7x7 +relu6", "conv k1x1 s1 g1 c128>512 in128x7x7 +relu6",
          "conv k3x3 s1 g512 c512>512 in512x7x7 +relu6",
          "conv k1x1 s1 g1 c512>128 in512x7x7 +add",  // the residual add, as a sum post-op
          "pool gap in128x7x7", "dense c128>10 in128x1x1"));
}

TEST(KernelKeyTest, OtherOpsNameTheirAttributes) {
  const std::vector<std::string> keys = Keys(Zoo());
  for (const char* want : {"conv k3x3 s2 g1 c3>16 in3x32x32 +relu6",
                           "conv k5x5 s1 g16 c16>16 in16x16x16 +relu6",
                           "conv k1x1 s1 g1 c72>6 in72x1x1 +relu",
                           "conv k1x1 s1 g1 c6>72 in6x1x1 +hard_sigmoid",
                           "multiply in72x16x16 by72x1x1",
                           "conv k1x1 s1 g1 c72>24 in72x16x16 +add",
                           "add n2 in32",
                           "conv k1x1 s1 g2 c16>64 in16x4x4 +add +relu",
                           "concat in16x16x16+16x16x16",
                           "pool max k3 s2 p1 in32x16x16",
                           "conv k1x1 s1 g2 c32>16 in32x8x8 +relu",
                           "channel_shuffle g2 in16x8x8",
                           "conv k3x3 s2 g16 c16>16 in16x8x8",
                           "pool avg k3 s2 p1 in32x8x8",
                           "concat in32x4x4+32x4x4",
                           "relu in64x4x4",
                           "conv k3x3 s1 d2 g1 c64>16 in64x4x4",
                           "conv k3x3 s1 p0 g1 c16>16 in16x4x4",
                           "pool avg k2 s2 in16x2x2",
                           "pool gap in16x1x1",
                           "flatten in16x1x1",
                           "dense c16>32 in16 +relu",
                           "dense c32>10 in32"}) {
    EXPECT_THAT(keys, testing::Contains(want)) << want;
  }
}

TEST(KernelKeyTest, NodeNamesDoNotEnterKeys) {
  Graph g = Zoo();
  Graph renamed = g;
  auto rename = [](const std::string& name) {
    return "other_" + std::to_string(name.size()) + "_" + name + "_x";
  };
  for (Node& n : renamed.nodes) {
    n.name = rename(n.name);
    for (std::string& in : n.inputs)
      if (in != kInputName) in = rename(in);
  }
  EXPECT_EQ(Keys(renamed), Keys(g));
}

TEST(KernelKeyTest, ParsedWorkMatchesTheAnalysis) {
  for (const Graph& g : {Zoo(), *Preset("mobile-tiny"), *Preset("lenet5"), *Preset("cnn-bn"),
                         *Preset("lenet-300-100")}) {
    const GraphInfo info = *AnalyzeGraph(g);
    for (const Kernel& k : InferenceKernels(g, info, /*batch=*/1)) {
      absl::StatusOr<KernelFeatures> f = ParseKernelKey(k.key);
      ASSERT_TRUE(f.ok()) << f.status();
      EXPECT_EQ(f->macs, info.nodes[k.node].flops) << k.key;
      int64_t in = 0;
      for (int src : info.nodes[k.node].inputs)
        in += (src == kGraphInput ? info.input_shape : info.nodes[src].shape).elements();
      EXPECT_EQ(f->elements, in) << k.key;
    }
  }
}

TEST(KernelKeyTest, FamiliesGroupKernelsThatCostAlikePerUnitOfWork) {
  auto family = [](const std::string& key) { return ParseKernelKey(key)->family; };
  EXPECT_EQ(family("conv k3x3 s2 g32 c32>32 in32x14x14 +relu6"), "conv dw k3x3 s2");
  EXPECT_EQ(family("conv k3x3 s2 g96 c96>96 in96x7x7"), "conv dw k3x3 s2");
  EXPECT_EQ(family("conv k1x1 s1 g1 c16>32 in16x14x14 +relu6"), "conv full k1x1 s1");
  EXPECT_EQ(family("conv k1x1 s1 g2 c16>32 in16x14x14"), "conv grouped k1x1 s1");
  EXPECT_EQ(family("conv k3x3 s1 d2 g1 c64>16 in64x8x8"), "conv full k3x3 s1 d2");
  EXPECT_EQ(family("pool max k3 s2 p1 in32x16x16"), "pool max k3 s2 p1");
  EXPECT_EQ(family("pool gap in128x4x4"), "pool gap");
  EXPECT_EQ(family("add n2 in128x4x4"), "add");
  EXPECT_EQ(ParseKernelKey("dense c128>10 in128x1x1")->macs, 1280);
}

TEST(KernelKeyTest, ParseRefusesWhatKernelKeyNeverWrites) {
  for (const char* bad :
       {"", " conv", "conv k3x3 s1 g1 c4>8", "conv k3x3 s1 g1 c4>8 in3x8x8",
        "conv k3x3 s1 g3 c4>8 in4x8x8", "conv k9x9 s1 p0 g1 c4>8 in4x2x2", "pool in4x4x4",
        "pool min k2 s2 in4x4x4", "add n2 in4x4", "add n2 in4x4x4 q1", "relu in-4x4x4",
        "relu in99999999x1x1", "dense c5>3 in4"}) {
    absl::StatusOr<KernelFeatures> f = ParseKernelKey(bad);
    ASSERT_FALSE(f.ok()) << "'" << bad << "'";
    EXPECT_THAT(std::string(f.status().message()), HasSubstr("kernel key"));
  }
}

}  // namespace
}  // namespace edgenas
