// The kernel each preset's convs run at batch 1 in inference and at batch 64
// in training, and the cases where planning and the layer must agree on a
// fused max pool or residual add.
#include "runtime/exec/conv_choice.h"

#include <string>

#include "gtest/gtest.h"
#include "runtime/exec/net.h"
#include "runtime/graph/blocks.h"
#include "runtime/graph/presets.h"

namespace edgenas {
namespace {

// Conv `name`'s choice with what PlanFusion fuses after it, the residual's
// buffer channels-last (as our batch-1 kernels write it).
ConvChoice Choice(const Graph& g, const std::string& name, NetMode mode, int batch) {
  const GraphInfo info = *AnalyzeGraph(g);
  const FusionPlan plan = PlanFusion(g, info, mode, batch);
  const int v = g.Find(name);
  EXPECT_GE(v, 0) << name;
  ConvEpilogue after;
  after.fused = plan.fused[v];
  after.residual = plan.sum_residual[v];
  after.residual_channels_last = true;
  return ChooseConvKernel(g, info, v, mode, batch, after);
}

ConvKernel Kernel(const Graph& g, const std::string& name, NetMode mode, int batch) {
  return Choice(g, name, mode, batch).kernel;
}

std::string Name(ConvKernel k) { return ConvKernelName(k); }

TEST(ConvChoiceTest, CnnBn) {
  const Graph g = *Preset("cnn-bn");
  // conv1 (1 -> 32 channels) and conv2 (32 -> 64), each with its ReLU and
  // 2x2 max pool inside.
  const ConvChoice c1 = Choice(g, "conv1", NetMode::kInference, 1);
  EXPECT_EQ(Name(c1.kernel), "small_conv");
  EXPECT_EQ(c1.act, BnAct::kRelu);
  EXPECT_TRUE(c1.small.pool);
  EXPECT_EQ(c1.small.in_channels, 1);
  EXPECT_EQ(c1.small.out_channels, 32);
  const ConvChoice c2 = Choice(g, "conv2", NetMode::kInference, 1);
  EXPECT_EQ(Name(c2.kernel), "winograd");
  EXPECT_EQ(c2.act, BnAct::kRelu);
  EXPECT_TRUE(c2.winograd.pool);
  EXPECT_EQ(c2.winograd.tile, 4);
  EXPECT_EQ(c2.winograd.in_channels, 32);
  EXPECT_EQ(c2.winograd.height, 14);
  // Training at batch 64: one input channel is oneDNN's; conv2 ours.
  EXPECT_EQ(Name(Kernel(g, "conv1", NetMode::kTrain, 64)), "onednn_direct");
  const ConvChoice t2 = Choice(g, "conv2", NetMode::kTrain, 64);
  EXPECT_EQ(Name(t2.kernel), "winograd_train");
  EXPECT_EQ(t2.winograd_train.batch, 64);
  EXPECT_EQ(t2.winograd_train.in_channels, 32);
  EXPECT_EQ(t2.winograd_train.out_channels, 64);
  EXPECT_EQ(t2.winograd_train.height, 14);
  // Batch 2 in inference: oneDNN, and no pool fused.
  EXPECT_EQ(Name(Kernel(g, "conv1", NetMode::kInference, 2)), "onednn_direct");
  EXPECT_EQ(Name(Kernel(g, "conv2", NetMode::kInference, 2)), "onednn_direct");
}

TEST(ConvChoiceTest, MobileTiny) {
  const Graph g = *Preset("mobile-tiny");
  const ConvChoice stem = Choice(g, "stem/conv", NetMode::kInference, 1);
  EXPECT_EQ(Name(stem.kernel), "small_conv");
  EXPECT_EQ(stem.act, BnAct::kRelu6);
  EXPECT_FALSE(stem.small.pool);
  for (const char* block : {"ds1", "ds2", "ds3"}) {
    const std::string b = block;
    const ConvChoice dw = Choice(g, b + "/dw/conv", NetMode::kInference, 1);
    EXPECT_EQ(Name(dw.kernel), "dw_conv") << b;
    EXPECT_EQ(dw.act, BnAct::kRelu6) << b;
    const ConvChoice pw = Choice(g, b + "/pw/conv", NetMode::kInference, 1);
    EXPECT_EQ(Name(pw.kernel), "pw_conv") << b;
    EXPECT_EQ(pw.act, BnAct::kRelu6) << b;
    EXPECT_FALSE(pw.pointwise.residual) << b;
  }
  EXPECT_EQ(Choice(g, "ds1/dw/conv", NetMode::kInference, 1).depthwise.stride_h, 2);
  EXPECT_EQ(Name(Kernel(g, "mb1/expand/conv", NetMode::kInference, 1)), "pw_conv");
  EXPECT_EQ(Name(Kernel(g, "mb1/dw/conv", NetMode::kInference, 1)), "dw_conv");
  // The projection adds the block's input into its buffer, without an
  // activation.
  const ConvChoice project = Choice(g, "mb1/project/conv", NetMode::kInference, 1);
  EXPECT_EQ(Name(project.kernel), "pw_conv");
  EXPECT_EQ(project.act, BnAct::kNone);
  EXPECT_TRUE(project.pointwise.residual);
  EXPECT_EQ(project.pointwise.in_channels, 512);
  EXPECT_EQ(project.pointwise.out_channels, 128);
  // Training: every conv is oneDNN's (none is a 3x3 stride-1 ungrouped conv
  // of 16 or more input channels).
  for (const char* conv : {"stem/conv", "ds1/dw/conv", "ds1/pw/conv", "ds3/dw/conv",
                           "mb1/expand/conv", "mb1/dw/conv", "mb1/project/conv"})
    EXPECT_EQ(Name(Kernel(g, conv, NetMode::kTrain, 64)), "onednn_direct") << conv;
}

TEST(ConvChoiceTest, Lenet5) {
  const Graph g = *Preset("lenet5");
  // conv1 (5x5, 1 -> 20): the small conv with pool1 inside; conv2 (20 -> 50)
  // has too many input channels for it and is not 3x3: oneDNN, pool2 apart.
  const ConvChoice c1 = Choice(g, "conv1", NetMode::kInference, 1);
  EXPECT_EQ(Name(c1.kernel), "small_conv");
  EXPECT_EQ(c1.act, BnAct::kNone);
  EXPECT_TRUE(c1.small.pool);
  EXPECT_EQ(c1.small.kernel_h, 5);
  EXPECT_EQ(Name(Kernel(g, "conv2", NetMode::kInference, 1)), "onednn_direct");
  const FusionPlan plan = PlanFusion(g, *AnalyzeGraph(g), NetMode::kInference, 1);
  EXPECT_EQ(plan.alias[g.Find("pool2")], -1);
  EXPECT_EQ(Name(Kernel(g, "conv1", NetMode::kTrain, 64)), "onednn_direct");
  EXPECT_EQ(Name(Kernel(g, "conv2", NetMode::kTrain, 64)), "onednn_direct");
}

// Asked with a pool that no kernel takes, the answer is none: PlanFusion
// asks that question and leaves the pool out.
TEST(ConvChoiceTest, APoolNoKernelTakesIsNone) {
  const Graph g = *Preset("lenet5");
  const GraphInfo info = *AnalyzeGraph(g);
  ConvEpilogue after;
  after.fused = {g.Find("pool2")};
  EXPECT_EQ(ChooseConvKernel(g, info, g.Find("conv2"), NetMode::kInference, 1, after).kernel,
            ConvKernel::kNone);
  // At batch 2 not even conv1's.
  after.fused = {g.Find("pool1")};
  EXPECT_EQ(ChooseConvKernel(g, info, g.Find("conv1"), NetMode::kInference, 2, after).kernel,
            ConvKernel::kNone);
  EXPECT_FALSE(RunsFusedPool(ConvKernel::kNone));
  EXPECT_TRUE(RunsFusedPool(ConvKernel::kSmallConv));
  EXPECT_TRUE(RunsFusedPool(ConvKernel::kWinograd));
}

// The pointwise kernel adds the residual only into a channels-last buffer;
// otherwise oneDNN's conv does, as a sum post-op.
TEST(ConvChoiceTest, PointwiseResidualNeedsChannelsLast) {
  const Graph g = *Preset("mobile-tiny");
  const GraphInfo info = *AnalyzeGraph(g);
  const FusionPlan plan = PlanFusion(g, info, NetMode::kInference, 1);
  const int v = g.Find("mb1/project/conv");
  ConvEpilogue after;
  after.fused = plan.fused[v];
  after.residual = plan.sum_residual[v];
  ASSERT_GE(after.residual, 0);
  after.residual_channels_last = false;
  EXPECT_EQ(ChooseConvKernel(g, info, v, NetMode::kInference, 1, after).kernel,
            ConvKernel::kOneDnnDirect);
}

// Training a 3x3 stride-1 conv our Winograd kernels do not take (channels
// not in blocks of 16, or padding 0): oneDNN's Winograd; below batch 16 or
// 16 channels, direct.
TEST(ConvChoiceTest, TrainingWinogradOfOneDnn) {
  Graph g;
  g.input = Shape3{24, 12, 12};
  g.num_classes = 10;
  GraphBuilder b(&g);
  std::string x = b.Conv("odd", "input", 24, 3, 1, 1);
  x = b.Conv("unpadded", x, 32, 3, 1, 0);
  x = b.Conv("few", x, 8, 3, 1, 1);
  b.Dense("fc", x, 10);
  EXPECT_EQ(Name(Kernel(g, "odd", NetMode::kTrain, 64)), "onednn_winograd");
  EXPECT_EQ(Name(Kernel(g, "unpadded", NetMode::kTrain, 64)), "onednn_winograd");
  EXPECT_EQ(Name(Kernel(g, "few", NetMode::kTrain, 64)), "onednn_direct");
  EXPECT_EQ(Name(Kernel(g, "odd", NetMode::kTrain, 8)), "onednn_direct");
}

}  // namespace
}  // namespace edgenas
