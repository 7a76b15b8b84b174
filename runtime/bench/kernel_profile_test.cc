#include "runtime/bench/kernel_profile.h"

#include <random>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/graph/blocks.h"
#include "runtime/graph/presets.h"

namespace edgenas {
namespace {

using ::testing::ElementsAre;

std::unique_ptr<CompiledNet> Compile(const Graph& g, ParamStore* params, NetMode mode) {
  const GraphInfo info = *AnalyzeGraph(g);
  std::mt19937_64 rng(3);
  EXPECT_TRUE(InitParams(g, info, params, rng).ok());
  absl::StatusOr<std::unique_ptr<CompiledNet>> net =
      CompiledNet::Create(g, params, NetOptions{mode, 1, 1, false});
  EXPECT_TRUE(net.ok()) << net.status();
  return net.ok() ? *std::move(net) : nullptr;
}

TEST(InferenceKernelsTest, FusedKernelsAreCountedOnce) {
  Graph g;
  g.input = Shape3{3, 8, 8};
  g.num_classes = 4;
  GraphBuilder b(&g);
  std::string x = b.ConvBnAct("stem", "input", 3, 8, 3, 1, 1, OpKind::kRelu6);
  std::string y = b.Conv("side", x, 8, 1);
  x = b.Op("sum", OpKind::kAdd, {x, y});
  x = b.Act("sum_relu", b.BatchNorm("sum_bn", x),
            OpKind::kRelu);  // not after a conv: its own kernel
  x = b.Op("drop", OpKind::kDropout, {x});
  b.Dense("fc", b.Op("gap", OpKind::kGlobalAvgPool, {x}), 4);
  const GraphInfo info = *AnalyzeGraph(g);
  const std::vector<Kernel> kernels = InferenceKernels(g, info, /*batch=*/1);

  std::vector<std::string> keys;
  for (const Kernel& k : kernels) keys.push_back(k.key);
  EXPECT_THAT(keys,
              ElementsAre("conv k3x3 s1 g1 c3>8 in3x8x8 +relu6", "conv k1x1 s1 g1 c8>8 in8x8x8",
                          "add n2 in8x8x8", "batch_norm in8x8x8 +relu", "pool gap in8x8x8",
                          "dense c8>4 in8x1x1"));
  EXPECT_THAT(kernels[0].nodes,
              ElementsAre(g.Find("stem/conv"), g.Find("stem/bn"), g.Find("stem/act")));
  EXPECT_THAT(kernels[3].nodes, ElementsAre(g.Find("sum_bn"), g.Find("sum_relu")));
  // Every node runs in exactly one kernel, except the dropout, which inference drops.
  std::multiset<int> covered;
  for (const Kernel& k : kernels) covered.insert(k.nodes.begin(), k.nodes.end());
  for (int v = 0; v < static_cast<int>(g.nodes.size()); ++v)
    EXPECT_EQ(covered.count(v), g.nodes[v].name == "drop" ? 0u : 1u) << g.nodes[v].name;
}

TEST(InferenceKernelsTest, OneKernelPerLayerOfAPreset) {
  // At batch 1: conv+bn+relu+pool twice (our small conv, then Winograd),
  // dense+relu, dense.
  Graph g = *Preset("cnn-bn");
  absl::StatusOr<std::vector<std::string>> keys = InferenceKernelKeys(g);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_THAT(*keys, ElementsAre("conv k3x3 s1 g1 c1>32 in1x28x28 +relu +max_pool",
                                 "conv k3x3 s1 g1 c32>64 in32x14x14 +relu +max_pool",
                                 "dense c3136>128 in64x7x7 +relu", "dense c128>10 in128"));
  // At a larger batch the pool is a kernel of its own.
  const GraphInfo info = *AnalyzeGraph(g);
  EXPECT_EQ(InferenceKernels(g, info, /*batch=*/2).size(), 6u);
  EXPECT_EQ(g.nodes.size(), 11u);
  g.nodes[0].name = "";  // invalid: AnalyzeGraph's error comes back
  EXPECT_FALSE(InferenceKernelKeys(g).ok());
}

TEST(ProfileKernelsTest, TimesEveryKernelOfTheNetInOrder) {
  const Graph g = *Preset("mobile-tiny");
  ParamStore params;
  std::unique_ptr<CompiledNet> net = Compile(g, &params, NetMode::kInference);
  ASSERT_NE(net, nullptr);
  absl::StatusOr<std::vector<KernelTiming>> timings =
      ProfileKernels(*net, KernelProfileOptions{1, 5});
  ASSERT_TRUE(timings.ok()) << timings.status();
  const std::vector<Kernel> kernels = InferenceKernels(g, net->info(), net->batch());
  ASSERT_EQ(timings->size(), kernels.size());
  for (size_t i = 0; i < kernels.size(); ++i) {
    EXPECT_EQ((*timings)[i].key, kernels[i].key);
    EXPECT_EQ((*timings)[i].node, kernels[i].node);
    // Every kernel of this net runs a primitive: none can take no time at all.
    EXPECT_GT((*timings)[i].ms, 0) << kernels[i].key;
  }
  EXPECT_FALSE(net->profiling());
  EXPECT_EQ(net->profile().passes, 0);
}

TEST(ProfileKernelsTest, StepsAreChargedToTheLayerNotToFusedNodes) {
  const Graph g = *Preset("cnn-bn");
  ParamStore params;
  std::unique_ptr<CompiledNet> net = Compile(g, &params, NetMode::kInference);
  ASSERT_NE(net, nullptr);
  net->SetProfiling(true);
  std::vector<float> input(28 * 28, 0.5f);
  net->Forward(input.data());
  const std::vector<double>& ms = net->profile().forward_node_ms;
  ASSERT_EQ(ms.size(), g.nodes.size());
  EXPECT_GT(ms[g.Find("conv1")], 0);
  EXPECT_EQ(ms[g.Find("bn1")], 0);
  EXPECT_EQ(ms[g.Find("relu1")], 0);
}

TEST(ProfileKernelsTest, RefusesATrainingNetAndBadOptions) {
  const Graph g = *Preset("lenet5");
  ParamStore params;
  std::unique_ptr<CompiledNet> train = Compile(g, &params, NetMode::kTrain);
  ASSERT_NE(train, nullptr);
  EXPECT_EQ(ProfileKernels(*train, {}).status().code(), absl::StatusCode::kFailedPrecondition);
  std::unique_ptr<CompiledNet> infer = Compile(g, &params, NetMode::kInference);
  ASSERT_NE(infer, nullptr);
  EXPECT_EQ(ProfileKernels(*infer, KernelProfileOptions{0, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgenas
