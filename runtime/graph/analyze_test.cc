#include "runtime/graph/analyze.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/graph/blocks.h"
#include "runtime/graph/presets.h"

namespace edgenas {
namespace {

using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

const NodeInfo& At(const Graph& g, const GraphInfo& info, const std::string& name) {
  const int i = g.Find(name);
  EXPECT_GE(i, 0) << name;
  return info.nodes[i];
}

ValueShape Spatial(int c, int h, int w) { return ValueShape{c, h, w, false}; }
ValueShape Flat(int c) { return ValueShape{c, 1, 1, true}; }

// ---------------------------------------------------------------------------
// Presets, against numbers worked out by hand (input 1x28x28, 10 classes).

// flatten 784; fc1 784*300+300 = 235,500; fc2 300*100+100 = 30,100;
// fc3 100*10+10 = 1,010. Params 266,610; MACs 235,200+30,000+1,000 = 266,200.
// Values: 784 + 300 + 300 + 100 + 100 + 10 = 1,594 floats = 6,376 bytes.
// Peak: the input (784) and the flatten (784) live together = 6,272 bytes.
TEST(PresetAnalysisTest, Lenet300100) {
  Graph g = *Preset("lenet-300-100");
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(At(g, *info, "flatten").shape, Flat(784));
  EXPECT_EQ(At(g, *info, "fc1").shape, Flat(300));
  EXPECT_EQ(At(g, *info, "fc1").params, 235500);
  EXPECT_EQ(At(g, *info, "fc3").shape, Flat(10));
  EXPECT_EQ(info->params, 266610);
  EXPECT_EQ(info->flops, 266200);
  EXPECT_EQ(info->weight_bytes, 4 * 266610);
  EXPECT_EQ(info->activation_bytes, 6376);
  EXPECT_EQ(info->peak_activation_bytes, 6272);
  EXPECT_EQ(info->output, g.Find("fc3"));
  EXPECT_EQ(info->input_shape, Spatial(1, 28, 28));
}

// conv1 5x5, 20: 20*25+20 = 520 params, out 20x24x24, MACs 576*20*25 = 288,000.
// pool1 -> 20x12x12. conv2 5x5, 50: 50*20*25+50 = 25,050, out 50x8x8,
// MACs 64*50*500 = 1,600,000. pool2 -> 50x4x4 = 800. fc1 800*500+500 =
// 400,500 (MACs 400,000). fc2 500*10+10 = 5,010 (MACs 5,000).
// Params 431,080; MACs 2,293,000.
// Values: 11,520 + 2,880 + 3,200 + 800 + 500 + 500 + 10 = 19,410 floats.
// Peak: conv1 (11,520) and pool1 (2,880) = 14,400 floats = 57,600 bytes.
TEST(PresetAnalysisTest, Lenet5) {
  Graph g = *Preset("lenet5");
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(At(g, *info, "conv1").shape, Spatial(20, 24, 24));
  EXPECT_EQ(At(g, *info, "conv1").params, 520);
  EXPECT_EQ(At(g, *info, "conv1").flops, 288000);
  EXPECT_EQ(At(g, *info, "pool1").shape, Spatial(20, 12, 12));
  EXPECT_EQ(At(g, *info, "conv2").shape, Spatial(50, 8, 8));
  EXPECT_EQ(At(g, *info, "conv2").params, 25050);
  EXPECT_EQ(At(g, *info, "conv2").flops, 1600000);
  EXPECT_EQ(At(g, *info, "pool2").shape, Spatial(50, 4, 4));
  EXPECT_EQ(At(g, *info, "fc1").shape, Flat(500));  // dense flattens its input itself
  EXPECT_EQ(At(g, *info, "fc1").params, 400500);
  EXPECT_EQ(info->params, 431080);
  EXPECT_EQ(info->flops, 2293000);
  EXPECT_EQ(info->weight_bytes, 4 * 431080);
  EXPECT_EQ(info->activation_bytes, 4 * 19410);
  EXPECT_EQ(info->peak_activation_bytes, 57600);
}

// conv1 3x3 pad 1, 32: 32*9+32 = 320, out 32x28x28, MACs 784*32*9 = 225,792.
// bn1 64 trainable (+64 running statistics). pool1 -> 32x14x14. conv2 3x3,
// 64: 64*32*9+64 = 18,496, out 64x14x14, MACs 196*64*288 = 3,612,672. bn2
// 128 (+128). pool2 -> 64x7x7 = 3,136. fc1 3,136*128+128 = 401,536 (MACs
// 401,408). fc2 128*10+10 = 1,290 (MACs 1,280).
// Params 421,834; MACs 4,241,152; weight bytes 4*(421,834+192) = 1,688,104.
// Values: 3*25,088 + 6,272 + 3*12,544 + 3,136 + 128 + 128 + 10 = 122,570
// floats. Peak: conv1 and bn1 together, 50,176 floats = 200,704 bytes.
TEST(PresetAnalysisTest, CnnBn) {
  Graph g = *Preset("cnn-bn");
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(At(g, *info, "bn1").shape, Spatial(32, 28, 28));
  EXPECT_EQ(At(g, *info, "bn1").params, 64);
  EXPECT_EQ(At(g, *info, "conv2").params, 18496);
  EXPECT_EQ(At(g, *info, "conv2").flops, 3612672);
  EXPECT_EQ(At(g, *info, "pool2").shape, Spatial(64, 7, 7));
  EXPECT_EQ(At(g, *info, "fc1").params, 401536);
  EXPECT_EQ(info->params, 421834);
  EXPECT_EQ(info->flops, 4241152);
  EXPECT_EQ(info->weight_bytes, 1688104);
  EXPECT_EQ(info->activation_bytes, 4 * 122570);
  EXPECT_EQ(info->peak_activation_bytes, 200704);
}

// stem: conv 3x3 1->16 no bias 144 + bn 32; out 16x28x28; MACs 784*16*9 = 112,896.
// ds1 (16->32, s2): dw 16*9 = 144 + bn 32 (out 16x14x14, MACs 196*16*9 =
//   28,224); pw 32*16 = 512 + bn 64 (out 32x14x14, MACs 196*32*16 = 100,352).
// ds2 (32->64, s2): dw 288 + 64 (7x7, MACs 49*32*9 = 14,112); pw 2,048 + 128
//   (MACs 49*64*32 = 100,352).
// ds3 (64->128, s1): dw 576 + 128 (MACs 49*64*9 = 28,224); pw 8,192 + 256
//   (MACs 49*128*64 = 401,408).
// mb1 (128->128, expand 4, hidden 512): expand 65,536 + 1,024 (MACs
//   49*512*128 = 3,211,264); dw 4,608 + 1,024 (MACs 49*512*9 = 225,792);
//   project 65,536 + 256 (MACs 3,211,264); add.
// pool -> 128x1x1; fc 128*10+10 = 1,290 (MACs 1,280).
// Params 176 + 752 + 2,528 + 9,152 + 137,984 + 1,290 = 151,882.
// MACs 7,435,168. BN channels 16+16+32+32+64+64+128+512+512+128 = 1,504,
// each with two running statistics: weight bytes 4*(151,882+2*1,504) = 619,560.
// Peak: in mb1, the block input (kept for the add) with the expand conv
// and its BN: 6,272 + 2*25,088 = 56,448 floats = 225,792 bytes.
TEST(PresetAnalysisTest, MobileTiny) {
  Graph g = *Preset("mobile-tiny");
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(g.nodes.size(), 32u);
  EXPECT_EQ(At(g, *info, "ds1/dw/conv").shape, Spatial(16, 14, 14));
  EXPECT_EQ(At(g, *info, "ds1/dw/conv").params, 144);
  EXPECT_EQ(At(g, *info, "ds2/pw/act").shape, Spatial(64, 7, 7));
  EXPECT_EQ(At(g, *info, "mb1/expand/conv").shape, Spatial(512, 7, 7));
  EXPECT_EQ(At(g, *info, "mb1/expand/conv").flops, 3211264);
  EXPECT_EQ(At(g, *info, "mb1/add").shape, Spatial(128, 7, 7));
  EXPECT_EQ(At(g, *info, "pool").shape, Spatial(128, 1, 1));
  EXPECT_EQ(info->params, 151882);
  EXPECT_EQ(info->flops, 7435168);
  EXPECT_EQ(info->weight_bytes, 619560);
  EXPECT_EQ(info->peak_activation_bytes, 225792);
  EXPECT_LT(info->peak_activation_bytes, info->activation_bytes);
}

// Three relus in a chain over a 1x10x10 input: training keeps all three
// values (1,200 bytes); inference needs two at once (800 bytes).
TEST(ActivationBytesTest, ChainKeepsTwoLiveValues) {
  Graph g;
  g.input = Shape3{1, 10, 10};
  g.num_classes = 2;
  GraphBuilder b(&g);
  std::string x = b.Act("r1", "input", OpKind::kRelu);
  x = b.Act("r2", x, OpKind::kRelu);
  x = b.Act("r3", x, OpKind::kRelu);
  b.Dense("fc", x, 2);
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->activation_bytes, 4 * (3 * 100 + 2));
  EXPECT_EQ(info->peak_activation_bytes, 800);
}

// A value read by two branches stays live until the second has run:
// input(100) and conv x(200) -> a(200) -> b(200) with x live -> add(200).
TEST(ActivationBytesTest, BranchKeepsItsSourceLive) {
  Graph g;
  g.input = Shape3{1, 10, 10};
  g.num_classes = 2;
  GraphBuilder b(&g);
  std::string x = b.Conv("x", "input", 2, 3, 1, 1);
  std::string a = b.Act("a", x, OpKind::kRelu);
  std::string t = b.Act("t", x, OpKind::kTanh);
  b.Dense("fc", b.Op("sum", OpKind::kAdd, {a, t}), 2);
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->activation_bytes, 4 * (4 * 200 + 2));
  // While t runs: x, a and t (600 floats); while sum runs: a, t and sum.
  EXPECT_EQ(info->peak_activation_bytes, 4 * 600);
}

TEST(InferShapesTest, AcceptsAGraphUnderConstruction) {
  Graph g;
  g.input = Shape3{3, 8, 8};
  g.num_classes = 10;
  GraphBuilder b(&g);
  b.Conv("c", "input", 5, 3, 2, 1);
  b.Act("dead_end", "input", OpKind::kRelu);  // no consumer yet, no classifier
  absl::StatusOr<GraphInfo> info = InferShapes(g);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->nodes[0].shape, Spatial(5, 4, 4));
  EXPECT_FALSE(AnalyzeGraph(g).ok());
}

// ---------------------------------------------------------------------------
// Refusals: each is INVALID_ARGUMENT and names the node and the field.

// input 3x8x8 -> conv c1 (4, 3x3 same) -> relu r1 -> global pool gap -> dense fc (5).
Graph Valid() {
  Graph g;
  g.input = Shape3{3, 8, 8};
  g.num_classes = 5;
  GraphBuilder b(&g);
  std::string x = b.Conv("c1", "input", 4, 3, 1, 1);
  x = b.Act("r1", x, OpKind::kRelu);
  x = b.Op("gap", OpKind::kGlobalAvgPool, {x});
  b.Dense("fc", x, 5);
  return g;
}

Node& N(Graph& g, const std::string& name) { return g.nodes[g.Find(name)]; }

void ExpectRefused(const Graph& g, const std::vector<std::string>& parts,
                   const GraphLimits& limits = GraphLimits()) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(g, limits);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument) << info.status();
  const std::string message(info.status().message());
  for (const std::string& p : parts) EXPECT_THAT(message, HasSubstr(p));
}

TEST(RefusalTest, TheValidBaseIsAccepted) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(Valid());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->params, 4 * 27 + 4 + 4 * 5 + 5);
}

TEST(RefusalTest, Cycle) {
  // gap reads the cycle m -> r2 -> m but is not on it, and comes first.
  Graph g;
  g.input = Shape3{3, 8, 8};
  g.num_classes = 5;
  GraphBuilder b(&g);
  b.Op("gap", OpKind::kGlobalAvgPool, {"r2"});
  b.Conv("c1", "input", 4, 3, 1, 1);
  b.Op("m", OpKind::kAdd, {"c1", "r2"});
  b.Act("r2", "m", OpKind::kRelu);
  b.Dense("fc", "gap", 5);
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(info.status().message()),
              AllOf(HasSubstr("inputs"), HasSubstr("cycle"),
                    AnyOf(HasSubstr("node 'm'"), HasSubstr("node 'r2'")),
                    AnyOf(HasSubstr("m -> r2 -> m"), HasSubstr("r2 -> m -> r2")),
                    Not(HasSubstr("node 'gap'"))));
}

TEST(RefusalTest, DanglingInput) {
  Graph g = Valid();
  N(g, "r1").inputs = {"nope"};
  ExpectRefused(g, {"node 'r1'", "inputs", "'nope' is not a node"});
}

TEST(RefusalTest, SelfInput) {
  Graph g = Valid();
  N(g, "r1").inputs = {"r1"};
  ExpectRefused(g, {"node 'r1'", "inputs", "itself"});
}

TEST(RefusalTest, NoInputsAndWrongArity) {
  Graph g = Valid();
  N(g, "r1").inputs = {};
  ExpectRefused(g, {"node 'r1'", "inputs", "no inputs"});
  g = Valid();
  N(g, "r1").inputs = {"c1", "c1"};
  ExpectRefused(g, {"node 'r1' (relu)", "inputs", "takes 1 input(s), got 2"});
  g = Valid();
  GraphBuilder(&g).Op("sum", OpKind::kAdd, {"r1"});
  N(g, "gap").inputs = {"sum"};
  ExpectRefused(g, {"node 'sum' (add)", "inputs", "got 1"});
}

TEST(RefusalTest, DuplicateName) {
  Graph g = Valid();
  N(g, "r1").name = "c1";
  N(g, "gap").inputs = {"c1"};
  ExpectRefused(g, {"node 'c1'", "name", "duplicate"});
}

TEST(RefusalTest, ReservedNameInput) {
  Graph g = Valid();
  N(g, "r1").name = "input";
  ExpectRefused(g, {"node #1", "name", "'input' is reserved"});
}

TEST(RefusalTest, BadNameCharacters) {
  for (const std::string& bad : std::vector<std::string>{
           "r 1", "r\"1", "", "r1\n", std::string(129, 'a'), std::string("r\0", 2)}) {
    Graph g = Valid();
    N(g, "r1").name = bad;
    N(g, "gap").inputs = {bad};
    ExpectRefused(g, {"node #1", "name", "[A-Za-z0-9_.:/-]"});
  }
}

TEST(RefusalTest, UnknownOutput) {
  Graph g = Valid();
  g.output = "zz";
  ExpectRefused(g, {"graph", "output", "'zz' is not a node"});
}

TEST(RefusalTest, NoNodesAndBadHeader) {
  Graph g = Valid();
  g.nodes.clear();
  ExpectRefused(g, {"graph", "nodes"});
  g = Valid();
  g.num_classes = 1;
  ExpectRefused(g, {"graph", "num_classes"});
  g = Valid();
  g.input.channels = 0;
  ExpectRefused(g, {"graph", "input.channels"});
  g = Valid();
  g.input.width = 5000;
  ExpectRefused(g, {"graph", "input.width"});
}

TEST(RefusalTest, DeadNode) {
  Graph g = Valid();
  GraphBuilder(&g).Act("dead", "c1", OpKind::kTanh);
  g.output = "fc";
  ExpectRefused(g, {"node 'dead' (tanh)", "output", "never reaches"});
}

TEST(RefusalTest, OutputFeedsAnotherNode) {
  Graph g = Valid();
  Node extra;
  extra.name = "after";
  extra.op = OpKind::kSoftmax;
  extra.inputs = {"fc"};
  g.nodes.push_back(extra);
  g.output = "fc";
  ExpectRefused(g, {"node 'fc' (dense)", "output", "must not feed", "after"});
}

TEST(RefusalTest, WrongClassCount) {
  Graph g = Valid();
  N(g, "fc").dense.units = 7;
  ExpectRefused(g, {"node 'fc' (dense)", "output", "(7)", "5 classes"});
  g = Valid();
  g.output = "r1";  // a spatial value is not logits, even with gap and fc gone
  g.nodes.resize(2);
  g.num_classes = 4 * 8 * 8;
  ExpectRefused(g, {"node 'r1' (relu)", "output", "(4, 8, 8)"});
}

TEST(RefusalTest, ConvGroupsDoNotDivide) {
  Graph g = Valid();
  N(g, "c1").conv.groups = 2;  // 3 input channels
  ExpectRefused(g, {"node 'c1' (conv)", "groups", "input channels 3"});
  g = Valid();
  N(g, "c1").conv.groups = 3;
  N(g, "c1").conv.out_channels = 4;
  ExpectRefused(g, {"node 'c1' (conv)", "groups", "out_channels 4"});
}

TEST(RefusalTest, KernelLargerThanInput) {
  Graph g = Valid();
  N(g, "c1").conv.kernel_h = 9;
  N(g, "c1").conv.pad_h = 0;
  ExpectRefused(g, {"node 'c1' (conv)", "kernel", "(3, 8, 8)"});
  g = Valid();  // dilation makes a 3x3 kernel span 9
  N(g, "c1").conv.dilation_w = 4;
  N(g, "c1").conv.pad_w = 0;
  ExpectRefused(g, {"node 'c1' (conv)", "kernel", "3x9"});
  // With a stride, (8 - 9) / 2 + 1 once rounded to 1 and the window "fit".
  g = Valid();
  N(g, "c1").conv.kernel_h = N(g, "c1").conv.kernel_w = 9;
  N(g, "c1").conv.pad_h = N(g, "c1").conv.pad_w = 0;
  N(g, "c1").conv.stride_h = N(g, "c1").conv.stride_w = 2;
  ExpectRefused(g, {"node 'c1' (conv)", "kernel", "9x9"});
  g = Valid();
  Node& p = N(g, "r1");
  p.op = OpKind::kMaxPool;
  p.pool.kernel_h = p.pool.kernel_w = 9;  // stride 2 by default
  ExpectRefused(g, {"node 'r1' (max_pool)", "kernel", "9x9"});
}

TEST(RefusalTest, ConvAttributesOutOfRange) {
  struct Case {
    const char* field;
    std::function<void(ConvAttrs&)> set;
  };
  const std::vector<Case> cases = {
      {"out_channels", [](ConvAttrs& a) { a.out_channels = 0; }},
      {"kernel_h", [](ConvAttrs& a) { a.kernel_h = 0; }},
      {"kernel_w", [](ConvAttrs& a) { a.kernel_w = 32; }},
      {"stride_h", [](ConvAttrs& a) { a.stride_h = 0; }},
      {"stride_w", [](ConvAttrs& a) { a.stride_w = 17; }},
      {"dilation_h", [](ConvAttrs& a) { a.dilation_h = 0; }},
      {"dilation_w", [](ConvAttrs& a) { a.dilation_w = -1; }},
      {"groups", [](ConvAttrs& a) { a.groups = 0; }},
      {"pad_h", [](ConvAttrs& a) { a.pad_h = -1; }},
      {"pad_w", [](ConvAttrs& a) { a.pad_w = 3; }},  // a 3x3 window allows 0..2
  };
  for (const Case& c : cases) {
    Graph g = Valid();
    c.set(N(g, "c1").conv);
    ExpectRefused(g, {"node 'c1' (conv)", std::string(c.field) + ": ", "is outside"});
  }
}

TEST(RefusalTest, PoolAttributesOutOfRange) {
  struct Case {
    const char* field;
    std::function<void(PoolAttrs&)> set;
  };
  const std::vector<Case> cases = {
      {"kernel_h", [](PoolAttrs& a) { a.kernel_h = 0; }},
      {"kernel_w", [](PoolAttrs& a) { a.kernel_w = 40; }},
      {"stride_h", [](PoolAttrs& a) { a.stride_h = 0; }},
      {"stride_w", [](PoolAttrs& a) { a.stride_w = 100; }},
      {"pad_h", [](PoolAttrs& a) { a.pad_h = 1; }},  // a 2x2 window allows no padding
      {"pad_w", [](PoolAttrs& a) { a.pad_w = -1; }},
  };
  for (const Case& c : cases) {
    Graph g = Valid();
    Node& p = N(g, "r1");
    p.op = OpKind::kAvgPool;
    c.set(p.pool);
    ExpectRefused(g, {"node 'r1' (avg_pool)", std::string(c.field) + ": ", "is outside"});
  }
}

TEST(RefusalTest, OtherAttributesOutOfRange) {
  Graph g = Valid();
  N(g, "fc").dense.units = 0;
  ExpectRefused(g, {"node 'fc' (dense)", "units"});
  g = Valid();
  N(g, "r1").op = OpKind::kBatchNorm;
  N(g, "r1").bn_epsilon = 0;
  ExpectRefused(g, {"node 'r1' (batch_norm)", "epsilon"});
  N(g, "r1").bn_epsilon = 1e-5f;
  N(g, "r1").bn_momentum = 1.5f;
  ExpectRefused(g, {"node 'r1' (batch_norm)", "momentum"});
  g = Valid();
  N(g, "r1").op = OpKind::kElu;
  N(g, "r1").alpha = -1;
  ExpectRefused(g, {"node 'r1' (elu)", "alpha"});
  g = Valid();
  N(g, "r1").op = OpKind::kDropout;
  N(g, "r1").rate = 1;
  ExpectRefused(g, {"node 'r1' (dropout)", "rate"});
  g = Valid();
  N(g, "r1").op = OpKind::kChannelShuffle;
  N(g, "r1").shuffle_groups = 3;  // 4 channels
  ExpectRefused(g, {"node 'r1' (channel_shuffle)", "groups", "does not divide 4"});
}

TEST(RefusalTest, AddShapeMismatch) {
  Graph g = Valid();
  GraphBuilder b(&g);
  b.Conv("c2", "input", 5, 3, 1, 1);
  b.Op("sum", OpKind::kAdd, {"c1", "c2"});
  N(g, "r1").inputs = {"sum"};
  ExpectRefused(g, {"node 'sum' (add)", "inputs", "(4, 8, 8) and (5, 8, 8)"});
}

TEST(RefusalTest, MultiplyBadBroadcast) {
  // The broadcast value must be the second input and have the same channels.
  Graph g = Valid();
  GraphBuilder b(&g);
  b.Conv("s", b.Op("g2", OpKind::kGlobalAvgPool, {"c1"}), 3, 1);  // (3, 1, 1) against (4, 8, 8)
  b.Op("m", OpKind::kMultiply, {"c1", "s"});
  N(g, "r1").inputs = {"m"};
  ExpectRefused(g, {"node 'm' (multiply)", "inputs", "(3, 1, 1)"});
  N(g, "s").conv.out_channels = 4;
  N(g, "m").inputs = {"s", "c1"};
  ExpectRefused(g, {"node 'm' (multiply)", "inputs", "second input (4, 8, 8)"});
  // A (1, H, W) value does not broadcast over channels either.
  g = Valid();
  GraphBuilder(&g).Conv("one", "input", 1, 3, 1, 1);
  GraphBuilder(&g).Op("m", OpKind::kMultiply, {"c1", "one"});
  N(g, "r1").inputs = {"m"};
  ExpectRefused(g, {"node 'm' (multiply)", "inputs", "(1, 8, 8)"});
}

TEST(RefusalTest, ConcatMismatchedHeightAndWidth) {
  Graph g = Valid();
  GraphBuilder b(&g);
  b.Pool("p", "c1", OpKind::kMaxPool, 2, 2);
  b.Op("cat", OpKind::kConcat, {"c1", "p"});
  N(g, "r1").inputs = {"cat"};
  ExpectRefused(g, {"node 'cat' (concat)", "inputs", "(4, 8, 8) and (4, 4, 4)"});
}

TEST(RefusalTest, FlatIntoSpatialOp) {
  Graph g = Valid();
  GraphBuilder(&g).Op("flat", OpKind::kFlatten, {"input"});
  N(g, "c1").inputs = {"flat"};
  ExpectRefused(g, {"node 'c1' (conv)", "inputs", "flat"});
  for (OpKind op : {OpKind::kMaxPool, OpKind::kGlobalAvgPool, OpKind::kChannelShuffle}) {
    g = Valid();
    GraphBuilder(&g).Op("flat", OpKind::kFlatten, {"c1"});
    N(g, "r1").op = op;
    N(g, "r1").inputs = {"flat"};
    ExpectRefused(g, {absl::StrCat("node 'r1' (", OpName(op), ")"), "inputs", "flat"});
  }
}

TEST(RefusalTest, SoftmaxOnASpatialInput) {
  Graph g = Valid();
  N(g, "r1").op = OpKind::kSoftmax;
  ExpectRefused(g, {"node 'r1' (softmax)", "inputs", "flat"});
}

TEST(RefusalTest, TooManyNodes) {
  GraphLimits limits;
  limits.max_nodes = 3;
  ExpectRefused(Valid(), {"graph", "nodes", "4 nodes exceed the limit 3"}, limits);
}

TEST(RefusalTest, TooManyInputs) {
  GraphLimits limits;
  limits.max_inputs_per_node = 2;
  Graph g = Valid();
  GraphBuilder(&g).Op("sum", OpKind::kAdd, {"c1", "c1", "c1"});
  N(g, "r1").inputs = {"sum"};
  ExpectRefused(g, {"node 'sum' (add)", "inputs", "3 inputs exceed the limit 2"}, limits);
}

TEST(RefusalTest, TooManyChannels) {
  GraphLimits limits;
  limits.max_channels = 6;
  Graph g = Valid();
  N(g, "c1").conv.out_channels = 7;
  ExpectRefused(g, {"node 'c1' (conv)", "out_channels", "7 is outside [1, 6]"}, limits);
  g = Valid();
  N(g, "fc").dense.units = 7;
  g.num_classes = 7;
  ExpectRefused(g, {"node 'fc' (dense)", "units", "7 is outside [1, 6]"}, limits);
  g = Valid();
  GraphBuilder(&g).Op("cat", OpKind::kConcat, {"c1", "c1"});  // 8 channels
  N(g, "r1").inputs = {"cat"};
  ExpectRefused(g, {"node 'cat' (concat)", "inputs", "8 channels exceed the limit 6"}, limits);
  g = Valid();
  GraphBuilder(&g).Op("flat", OpKind::kFlatten, {"r1"});  // 256 features
  N(g, "gap").op = OpKind::kDropout;
  N(g, "gap").inputs = {"flat"};
  limits.max_channels = 100;
  ExpectRefused(g, {"node 'flat' (flatten)", "256", "100"}, limits);
}

TEST(RefusalTest, TooManyActivationBytes) {
  GraphLimits limits;
  limits.max_activation_bytes = 1500;  // c1 makes 1,024 bytes, r1 another 1,024
  ExpectRefused(Valid(), {"node 'r1' (relu)", "output", "activations exceed 1500"}, limits);
}

TEST(RefusalTest, TooManyWeightBytes) {
  GraphLimits limits;
  limits.max_weight_bytes = 400;  // c1 holds 4*27+4 = 112 floats = 448 bytes
  ExpectRefused(Valid(), {"node 'c1' (conv)", "weights", "exceed 400"}, limits);
}

// An input past the activation limit is refused before anything reads it;
// once, a flatten of 2^37 values wrapped to 0 features and the graph passed.
TEST(RefusalTest, InputTooLarge) {
  Graph g;
  g.input = Shape3{8192, 4096, 4096};
  g.num_classes = 10;
  GraphBuilder b(&g);
  b.Dense("fc", b.Op("flat", OpKind::kFlatten, {"input"}), 10);
  ExpectRefused(g, {"graph", "input", "bytes"});
  GraphLimits huge;
  huge.max_activation_bytes = int64_t{1} << 62;
  ExpectRefused(g, {"node 'flat' (flatten)"}, huge);
}

}  // namespace
}  // namespace edgenas
