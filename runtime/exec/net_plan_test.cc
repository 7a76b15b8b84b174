// What a compiled net chooses and keeps apart: the fusion plan and which
// kernels run (our own at batch 1), thread counts, parameters shared
// between nets, dropout's mask, and the parameters Create refuses. The
// numbers themselves are checked in net_test.cc.
#include <omp.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/exec/net.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/blocks.h"
#include "runtime/graph/presets.h"
#include "runtime/testing/random_values.h"
#include "runtime/testing/reference_forward.h"

namespace edgenas {
namespace {

using testing::RandomInput;
using testing::RandomParams;

// An inference net on `store` at `batch`, or null (the test has failed).
std::unique_ptr<CompiledNet> InferenceNet(const Graph& g, ParamStore* store, int batch = 1) {
  auto net = CompiledNet::Create(g, store, NetOptions{NetMode::kInference, batch, 1, false});
  EXPECT_TRUE(net.ok()) << net.status();
  return net.ok() ? *std::move(net) : nullptr;
}

TEST(FusionTest, InferenceFoldsBatchNormAndFusesActivations) {
  Graph g = *Preset("cnn-bn");
  GraphInfo info = *AnalyzeGraph(g);
  FusionPlan plan = PlanFusion(g, info, NetMode::kInference, /*batch=*/2);
  EXPECT_EQ(plan.folded_bn[g.Find("conv1")], g.Find("bn1"));
  EXPECT_EQ(plan.alias[g.Find("bn1")], g.Find("conv1"));
  EXPECT_THAT(plan.fused[g.Find("conv1")], ::testing::ElementsAre(g.Find("relu1")));
  EXPECT_THAT(plan.fused[g.Find("conv2")], ::testing::ElementsAre(g.Find("relu2")));
  EXPECT_THAT(plan.fused[g.Find("fc1")], ::testing::ElementsAre(g.Find("relu3")));
  // Batch 1: conv1 runs our small conv (one input channel), conv2 Winograd
  // (32 -> 64 channels), each with its 2x2 max pool inside.
  FusionPlan one = PlanFusion(g, info, NetMode::kInference, /*batch=*/1);
  EXPECT_THAT(one.fused[g.Find("conv1")], ::testing::ElementsAre(g.Find("relu1"), g.Find("pool1")));
  EXPECT_EQ(one.alias[g.Find("pool1")], g.Find("conv1"));
  EXPECT_THAT(one.fused[g.Find("conv2")], ::testing::ElementsAre(g.Find("relu2"), g.Find("pool2")));
  EXPECT_EQ(one.alias[g.Find("pool2")], g.Find("conv2"));
  // Training: batch norm, ReLU and the 2x2 max pool in one kernel.
  FusionPlan train = PlanFusion(g, info, NetMode::kTrain, /*batch=*/64);
  EXPECT_EQ(train.folded_bn[g.Find("conv1")], -1);
  EXPECT_THAT(train.fused[g.Find("bn1")], ::testing::ElementsAre(g.Find("relu1"), g.Find("pool1")));
  EXPECT_EQ(train.alias[g.Find("relu1")], g.Find("bn1"));
  EXPECT_EQ(train.alias[g.Find("pool1")], g.Find("bn1"));
  ParamStore store = RandomParams(g, info, 1);
  auto net = InferenceNet(g, &store);
  ASSERT_NE(net, nullptr);
  // At batch 1 every kernel is our own: conv1 with pool1, conv2 with pool2,
  // fc1 and fc2; the forward pass runs them on one OpenMP team.
  EXPECT_EQ(net->num_primitives(), 0);
  EXPECT_TRUE(net->runs_on_one_team());
  auto batch2 = InferenceNet(g, &store, /*batch=*/2);
  ASSERT_NE(batch2, nullptr);
  EXPECT_FALSE(batch2->runs_on_one_team());
}

// An add whose other input's conv is listed (and so runs) after the conv
// chain that feeds it: only the conv that runs last may sum into the other's
// buffer. (Graphs with nodes appended later, as a skip connection added by a
// morph, are listed so; planning the earlier conv's sum into a buffer not yet
// written left a primitive uncreated.)
TEST(FusionTest, AResidualSumIsDoneByTheConvThatRunsLast) {
  Graph g;
  g.input = Shape3{3, 8, 8};
  g.num_classes = 4;
  GraphBuilder b(&g);
  std::string stem = b.Conv("stem", "input", 8, 3);
  std::string x = b.ConvBnAct("a", stem, 8, 8, 3, 1, 1, OpKind::kRelu);
  b.Op("add", OpKind::kAdd, {x, "late"});
  b.Dense("fc", b.Op("gap", OpKind::kGlobalAvgPool, {"add"}), 4);
  b.Conv("late", stem, 8, 1);  // listed last, read by the add
  g.output = "fc";
  GraphInfo info = *AnalyzeGraph(g);
  FusionPlan plan = PlanFusion(g, info, NetMode::kInference, /*batch=*/4);
  EXPECT_EQ(plan.sum_residual[g.Find("a/conv")], -1);
  EXPECT_EQ(plan.sum_residual[g.Find("late")], g.Find("a/act"));
  EXPECT_EQ(plan.alias[g.Find("add")], g.Find("late"));
  ParamStore store = RandomParams(g, info, 3);
  auto net = InferenceNet(g, &store, /*batch=*/4);
  ASSERT_NE(net, nullptr);
  const std::vector<float> input = RandomInput(g, 4, 5);
  net->Forward(input.data());
  const std::vector<double> want = testing::ReferenceForward(g, info, store, input, 4, false);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(net->Logits()[i], want[i], 1e-4) << i;
}

// mobile-tiny at batch 1: every conv runs one of our kernels (the stem, the
// depthwise convs, the 1x1 convs with MBConv's residual add), the global
// average pool and the dense layer too, and the pass runs on one team.
TEST(FusionTest, MobileTinyAtBatch1RunsOnOurKernelsAndOneTeam) {
  Graph g = *Preset("mobile-tiny");
  GraphInfo info = *AnalyzeGraph(g);
  ParamStore store = RandomParams(g, info, 1);
  auto net = InferenceNet(g, &store);
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(net->num_primitives(), 0);
  EXPECT_TRUE(net->runs_on_one_team());
}

// Our batch-1 kernels size their per-thread scratch when the net is built:
// a net built on one thread and run on two must neither overrun it nor
// change its result (under ASan, an overrun fails here). cnn-bn runs on two
// as one OpenMP team.
TEST(ThreadsTest, ABatch1NetBuiltOnOneThreadRunsOnTwo) {
  for (const char* preset : {"cnn-bn", "mobile-tiny"}) {
    Graph g = *Preset(preset);
    GraphInfo info = *AnalyzeGraph(g);
    ParamStore store = RandomParams(g, info, 3);
    const std::vector<float> x = RandomInput(g, 1, 4);
    const int before = omp_get_max_threads();
    omp_set_num_threads(1);
    auto net = InferenceNet(g, &store);
    ASSERT_NE(net, nullptr);
    net->Forward(x.data());
    const std::vector<float> one(net->Logits(), net->Logits() + 10);
    omp_set_num_threads(2);
    net->Forward(x.data());
    omp_set_num_threads(before);
    for (int k = 0; k < 10; ++k) EXPECT_NEAR(net->Logits()[k], one[k], 1e-4) << preset << " " << k;
  }
}

TEST(SharedParamsTest, AnInferenceNetSeesWhatATrainingNetChanged) {
  Graph g = *Preset("lenet-300-100");
  GraphInfo info = *AnalyzeGraph(g);
  ParamStore store = RandomParams(g, info, 1);
  auto infer = InferenceNet(g, &store);
  ASSERT_NE(infer, nullptr);
  std::vector<float> x = RandomInput(g, 1, 2);
  infer->Forward(x.data());
  const float before = infer->Logits()[0];
  store.Find("fc3/bias")->values[0] += 1.0f;
  store.Touch();
  infer->Forward(x.data());
  EXPECT_NEAR(infer->Logits()[0], before + 1.0f, 1e-5);
}

// cnn-bn's fc1 (3136 -> 128) in inference: at batch 1 our matrix-vector
// kernel, its W^T filled by the load steps; at batch 2 a matmul, its weights
// read through a transposed view of the reordered store values.
TEST(SharedParamsTest, AWideDenseSeesChangedWeights) {
  Graph g = *Preset("cnn-bn");
  GraphInfo info = *AnalyzeGraph(g);
  for (int batch : {1, 2}) {
    SCOPED_TRACE(::testing::Message() << "batch " << batch);
    ParamStore store = RandomParams(g, info, 1);
    auto infer = InferenceNet(g, &store, batch);
    ASSERT_NE(infer, nullptr);
    std::vector<float> x = RandomInput(g, batch, 2);
    const int n = 10 * batch;
    infer->Forward(x.data());
    const std::vector<float> before(infer->Logits(), infer->Logits() + n);
    for (float& w : store.Find("fc1/weight")->values) w *= -0.5f;
    store.Touch();
    infer->Forward(x.data());
    auto fresh = InferenceNet(g, &store, batch);
    ASSERT_NE(fresh, nullptr);
    fresh->Forward(x.data());
    double changed = 0;
    for (int i = 0; i < n; ++i) {
      EXPECT_NEAR(infer->Logits()[i], fresh->Logits()[i], 1e-5) << i;
      changed += std::abs(infer->Logits()[i] - before[i]);
    }
    EXPECT_GT(changed, 1e-3);
  }
}

// Small inference kernels are built and run on one OpenMP thread
// (RunsOnOneThread in net.cc); the caller's thread count is left as it was,
// also when building fails.
TEST(ThreadsTest, SmallKernelsLeaveTheCallersThreadCountAlone) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(2);
  Graph g = *Preset("mobile-tiny");
  GraphInfo info = *AnalyzeGraph(g);
  ParamStore store = RandomParams(g, info, 1);
  auto net = InferenceNet(g, &store);
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(omp_get_max_threads(), 2);
  std::vector<float> x = RandomInput(g, 1, 2);
  net->Forward(x.data());
  EXPECT_EQ(omp_get_max_threads(), 2);
  net->SetProfiling(true);
  net->Forward(x.data());
  EXPECT_EQ(omp_get_max_threads(), 2);
  omp_set_num_threads(before);
}

TEST(DropoutTest, TrainingMasksAndScalesAndBackpropagatesThroughTheMask) {
  Graph g;
  g.input = Shape3{4, 8, 8};
  g.num_classes = 256;
  GraphBuilder b(&g);
  std::string x = b.Op("flat", OpKind::kFlatten, {"input"});
  b.Op("drop", OpKind::kDropout, {x});
  g.nodes.back().rate = 0.25f;
  GraphInfo info = *AnalyzeGraph(g);
  ParamStore store;
  const int batch = 8;
  auto net = CompiledNet::Create(g, &store, NetOptions{NetMode::kTrain, batch, 42, false});
  ASSERT_TRUE(net.ok()) << net.status();
  std::vector<float> in = RandomInput(g, batch, 3);
  (*net)->Forward(in.data());
  const float* y = (*net)->Logits();
  int zeros = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (y[i] == 0.0f) {
      ++zeros;
    } else {
      ASSERT_NEAR(y[i], in[i] / 0.75f, 1e-5);
    }
  }
  EXPECT_NEAR(double(zeros) / in.size(), 0.25, 0.04);
  auto infer = CompiledNet::Create(g, &store, NetOptions{NetMode::kInference, batch, 1, false});
  ASSERT_TRUE(infer.ok());
  (*infer)->Forward(in.data());
  for (size_t i = 0; i < in.size(); ++i) ASSERT_EQ((*infer)->Logits()[i], in[i]);
}

TEST(CreateTest, RefusesMissingOrMisshapenParameters) {
  Graph g = *Preset("lenet5");
  ParamStore empty;
  auto net = CompiledNet::Create(g, &empty, NetOptions{});
  ASSERT_FALSE(net.ok());
  EXPECT_THAT(net.status().message(), ::testing::HasSubstr("conv1/weight"));
  GraphInfo info = *AnalyzeGraph(g);
  ParamStore store = RandomParams(g, info, 1);
  store.Find("fc1/bias")->dims = {3};
  net = CompiledNet::Create(g, &store, NetOptions{});
  ASSERT_FALSE(net.ok());
  EXPECT_THAT(net.status().message(), ::testing::HasSubstr("fc1/bias"));
}

}  // namespace
}  // namespace edgenas
