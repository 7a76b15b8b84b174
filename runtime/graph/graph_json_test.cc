#include "runtime/graph/graph_json.h"

#include <google/protobuf/util/message_differencer.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/graph/graph_proto.h"
#include "runtime/graph/presets.h"
#include "runtime/testing/random_graph.h"

namespace edgenas {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Graphs are compared through the proto, which holds exactly the attributes
// each op reads: another serialisation than the one under test.
void ExpectSameGraph(const Graph& a, const Graph& b) {
  v1::Graph pa, pb;
  GraphToProto(a, &pa);
  GraphToProto(b, &pb);
  std::string diff;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare(pa, pb)) << diff;
}

const Node& At(const Graph& g, const std::string& name) {
  static const Node kMissing;
  const int i = g.Find(name);
  EXPECT_GE(i, 0) << name << " is not a node";
  return i < 0 ? kMissing : g.nodes[i];
}

constexpr char kHandWritten[] = R"json({
  "name": "hand-written", "description": "every way of writing a node",
  "input": [3, 16, 16],
  "num_classes": 6,
  "nodes": [
    {"name": "stem", "op": "conv", "out_channels": 8, "kernel": 3, "padding": "same", "bias": false},
    {"name": "bn", "op": "batch_norm", "epsilon": 0.001},
    {"name": "act", "op": "relu6"},
    {"name": "rect", "op": "conv", "out_channels": 8, "kernel": [1, 3], "padding": [0, 1],
     "groups": 8, "inputs": ["stem"]},
    {"name": "sum", "op": "add", "inputs": ["act", "rect"]},
    {"name": "mb", "op": "mbconv", "out_channels": 8, "expand": 3, "kernel": 5,
     "se_ratio": 0.25, "activation": "hard_swish"},
    {"name": "ds", "op": "dw_separable", "out_channels": 12, "stride": 2},
    {"name": "fire", "op": "fire", "squeeze": 4, "expand1x1": 5, "expand3x3": 7},
    {"name": "su", "op": "shufflenet_unit", "out_channels": 24, "groups": 3, "stride": 2},
    {"name": "pool", "op": "max_pool", "kernel": 2},
    {"name": "drop", "op": "dropout", "rate": 0.2},
    {"name": "flat", "op": "flatten"},
    {"name": "fc", "op": "dense", "units": 6},
    {"name": "sm", "op": "softmax"}
  ]
})json";

TEST(GraphJsonTest, ParsesAHandWrittenArchitecture) {
  absl::StatusOr<Graph> parsed = GraphFromJson(kHandWritten);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Graph& g = *parsed;
  EXPECT_EQ(g.input, (Shape3{3, 16, 16}));
  EXPECT_EQ(g.num_classes, 6);
  EXPECT_EQ(g.output, "");
  // 5 plain nodes, mbconv 15 (with SE and the residual add), dw_separable 6,
  // fire 7, shufflenet_unit 11, then 5 plain nodes.
  EXPECT_EQ(g.nodes.size(), 49u);

  // Sequential default: a node without "inputs" reads the one before it.
  EXPECT_THAT(At(g, "stem").inputs, ElementsAre("input"));
  EXPECT_THAT(At(g, "bn").inputs, ElementsAre("stem"));
  EXPECT_THAT(At(g, "rect").inputs, ElementsAre("stem"));
  EXPECT_THAT(At(g, "sum").inputs, ElementsAre("act", "rect"));

  const ConvAttrs& stem = At(g, "stem").conv;
  EXPECT_EQ(stem.kernel_h, 3);
  EXPECT_EQ(stem.kernel_w, 3);
  EXPECT_EQ(stem.pad_h, 1);  // "same"
  EXPECT_EQ(stem.pad_w, 1);
  EXPECT_EQ(stem.stride_h, 1);
  EXPECT_EQ(stem.dilation_w, 1);
  EXPECT_EQ(stem.groups, 1);
  EXPECT_FALSE(stem.bias);
  const ConvAttrs& rect = At(g, "rect").conv;
  EXPECT_EQ(rect.kernel_h, 1);
  EXPECT_EQ(rect.kernel_w, 3);
  EXPECT_EQ(rect.pad_h, 0);
  EXPECT_EQ(rect.pad_w, 1);
  EXPECT_EQ(rect.groups, 8);
  EXPECT_TRUE(rect.bias);
  EXPECT_FLOAT_EQ(At(g, "bn").bn_epsilon, 0.001f);
  EXPECT_FLOAT_EQ(At(g, "bn").bn_momentum, 0.1f);
  EXPECT_FLOAT_EQ(At(g, "drop").rate, 0.2f);
  EXPECT_EQ(At(g, "pool").pool.stride_h, 2);  // the stride defaults to the kernel
  EXPECT_EQ(At(g, "pool").pool.stride_w, 2);

  // mbconv: expand 8 -> 24, depthwise 5x5, SE (reduce to 8 * 0.25 = 2), project, add.
  EXPECT_THAT(At(g, "mb/expand/conv").inputs, ElementsAre("sum"));
  EXPECT_EQ(At(g, "mb/expand/conv").conv.out_channels, 24);
  EXPECT_EQ(At(g, "mb/dw/conv").conv.groups, 24);
  EXPECT_EQ(At(g, "mb/dw/conv").conv.kernel_h, 5);
  EXPECT_EQ(At(g, "mb/dw/act").op, OpKind::kHardSwish);
  EXPECT_EQ(At(g, "mb/se/reduce").conv.out_channels, 2);
  EXPECT_EQ(At(g, "mb/se/gate").op, OpKind::kHardSigmoid);
  EXPECT_THAT(At(g, "mb/se/scale").inputs, ElementsAre("mb/dw/act", "mb/se/gate"));
  EXPECT_EQ(At(g, "mb/project/conv").conv.out_channels, 8);
  EXPECT_THAT(At(g, "mb/add").inputs, ElementsAre("mb/project/bn", "sum"));
  // dw_separable: depthwise 3x3 stride 2 then pointwise to 12, relu6 by default.
  EXPECT_THAT(At(g, "ds/dw/conv").inputs, ElementsAre("mb/add"));
  EXPECT_EQ(At(g, "ds/dw/conv").conv.stride_h, 2);
  EXPECT_EQ(At(g, "ds/dw/conv").conv.groups, 8);
  EXPECT_EQ(At(g, "ds/pw/conv").conv.out_channels, 12);
  EXPECT_EQ(At(g, "ds/pw/act").op, OpKind::kRelu6);
  // fire: squeeze 4, then 1x1 (5) and 3x3 (7) expands concatenated.
  EXPECT_THAT(At(g, "fire/squeeze").inputs, ElementsAre("ds/pw/act"));
  EXPECT_EQ(At(g, "fire/e3").conv.kernel_w, 3);
  EXPECT_THAT(At(g, "fire/concat").inputs, ElementsAre("fire/e1_relu", "fire/e3_relu"));
  // shufflenet_unit, stride 2: a 12-channel branch (bottleneck 6) next to
  // an average-pooled shortcut of the 12 input channels.
  EXPECT_THAT(At(g, "su/g1/conv").inputs, ElementsAre("fire/concat"));
  EXPECT_EQ(At(g, "su/g1/conv").conv.groups, 3);
  EXPECT_EQ(At(g, "su/g1/conv").conv.out_channels, 6);
  EXPECT_EQ(At(g, "su/shuffle").shuffle_groups, 3);
  EXPECT_EQ(At(g, "su/g2/conv").conv.out_channels, 12);
  EXPECT_THAT(At(g, "su/shortcut").inputs, ElementsAre("fire/concat"));
  EXPECT_EQ(At(g, "su/shortcut").op, OpKind::kAvgPool);
  EXPECT_THAT(At(g, "su/concat").inputs, ElementsAre("su/shortcut", "su/g2/bn"));
  EXPECT_THAT(At(g, "pool").inputs, ElementsAre("su/relu"));

  absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->nodes[g.Find("su/relu")].shape, (ValueShape{24, 4, 4, false}));
  EXPECT_EQ(info->nodes[g.Find("flat")].shape, (ValueShape{96, 1, 1, true}));
  EXPECT_EQ(info->output, g.Find("sm"));
}

TEST(GraphJsonTest, SamePaddingFollowsDilationAndOutputIsKept) {
  absl::StatusOr<Graph> g = GraphFromJson(R"({
    "input": [1, 12, 12], "num_classes": 3, "output": "fc",
    "nodes": [{"name": "c", "op": "conv", "out_channels": 2, "kernel": [3, 5],
               "dilation": [2, 1], "padding": "same", "stride": [1, 2]},
              {"name": "p", "op": "avg_pool", "kernel": [3, 2], "stride": 1, "padding": [1, 0]},
              {"name": "fc", "op": "dense", "units": 3, "bias": false}]})");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->output, "fc");
  const ConvAttrs& c = g->nodes[0].conv;
  EXPECT_EQ(c.pad_h, 2);  // 2 * (3 - 1) / 2
  EXPECT_EQ(c.pad_w, 2);  // 1 * (5 - 1) / 2
  EXPECT_EQ(c.stride_w, 2);
  const PoolAttrs& p = g->nodes[1].pool;
  EXPECT_EQ(p.kernel_h, 3);
  EXPECT_EQ(p.kernel_w, 2);
  EXPECT_EQ(p.stride_h, 1);
  EXPECT_EQ(p.stride_w, 1);
  EXPECT_EQ(p.pad_h, 1);
  EXPECT_FALSE(g->nodes[2].dense.bias);
  EXPECT_TRUE(AnalyzeGraph(*g).ok());
}

TEST(GraphJsonTest, ABlockMayBeTheFirstNode) {
  absl::StatusOr<Graph> g = GraphFromJson(R"({"input": [6, 8, 8], "num_classes": 2, "nodes": [
      {"name": "su", "op": "shufflenet_unit", "out_channels": 6, "groups": 2},
      {"name": "gap", "op": "global_avg_pool"}, {"name": "fc", "op": "dense", "units": 2}]})");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_THAT(At(*g, "su/add").inputs, ElementsAre("su/g2/bn", "input"));
  EXPECT_TRUE(AnalyzeGraph(*g).ok());
}

TEST(GraphJsonTest, RoundTripsPresets) {
  for (const std::string& name : PresetNames()) {
    Graph g = *Preset(name);
    const std::string text = GraphToJson(g);
    absl::StatusOr<Graph> back = GraphFromJson(text);
    ASSERT_TRUE(back.ok()) << name << ": " << back.status();
    ExpectSameGraph(g, *back);
    EXPECT_EQ(GraphToJson(*back), text) << name;
  }
}

TEST(GraphJsonTest, RoundTripsRandomGraphs) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::mt19937_64 rng(seed);
    Graph g = RandomGraph(rng, RandomGraphOptions());
    const std::string text = GraphToJson(g, seed % 2 ? -1 : 2);
    absl::StatusOr<Graph> back = GraphFromJson(text);
    ASSERT_TRUE(back.ok()) << "seed " << seed << ": " << back.status();
    ExpectSameGraph(g, *back);
    EXPECT_EQ(*CanonicalHash(*back), *CanonicalHash(g)) << "seed " << seed;
  }
}

// Float attributes come back bit for bit, not to a few digits.
TEST(GraphJsonTest, FloatsRoundTripExactly) {
  Graph g = *Preset("cnn-bn");
  g.nodes[g.Find("bn1")].bn_epsilon = 1.2345679e-5f;
  g.nodes[g.Find("bn1")].bn_momentum = 0.1f + 1e-8f;
  g.nodes[g.Find("bn2")].bn_momentum = std::nextafter(0.3f, 1.0f);
  absl::StatusOr<Graph> back = GraphFromJson(GraphToJson(g));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->nodes[g.Find("bn1")].bn_epsilon, g.nodes[g.Find("bn1")].bn_epsilon);
  EXPECT_EQ(back->nodes[g.Find("bn1")].bn_momentum, g.nodes[g.Find("bn1")].bn_momentum);
  EXPECT_EQ(back->nodes[g.Find("bn2")].bn_momentum, g.nodes[g.Find("bn2")].bn_momentum);
}

// Names are validated by analysis, not here; a name that is not UTF-8 (say
// from a graph still being checked) once made the JSON writer throw.
TEST(GraphJsonTest, WritingAnUnvalidatedNameDoesNotThrow) {
  Graph g = *Preset("lenet5");
  g.nodes[0].name = "conv\xff";
  g.nodes[1].inputs = {"conv\xff"};
  std::string text;
  EXPECT_NO_THROW(text = GraphToJson(g));
  EXPECT_THAT(text, HasSubstr("conv\xef\xbf\xbd"));  // U+FFFD in its place
}

// ---------------------------------------------------------------------------
// Errors: INVALID_ARGUMENT, naming where (node or architecture) and the field.

std::string Arch(const std::string& nodes, const std::string& extra = "") {
  return R"({"input": [3, 8, 8], "num_classes": 4, )" + extra + R"("nodes": [)" + nodes + "]}";
}

void ExpectError(const std::string& text, const std::vector<std::string>& parts) {
  absl::StatusOr<Graph> g = GraphFromJson(text);
  ASSERT_FALSE(g.ok()) << text;
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument) << g.status();
  const std::string message(g.status().message());
  for (const std::string& p : parts) EXPECT_THAT(message, HasSubstr(p)) << text;
}

TEST(GraphJsonErrorTest, UnknownKey) {
  ExpectError(Arch(R"({"name": "c", "op": "conv", "out_channels": 4, "kernal": 3, "kernel": 3})"),
              {"node 'c'", "unknown field 'kernal'"});
  ExpectError(Arch(R"({"name": "r", "op": "relu", "rate": 0.5})"), {"node 'r'", "'rate'"});
  ExpectError(Arch(R"({"name": "f", "op": "fire", "squeeze": 1, "expand1x1": 1,
                       "expand3x3": 1, "stride": 2})"),
              {"node 'f'", "unknown field 'stride'"});
  ExpectError(Arch(R"({"name": "r", "op": "relu"})", R"("classes": 3, )"),
              {"architecture", "unknown field 'classes'"});
}

TEST(GraphJsonErrorTest, WrongType) {
  ExpectError(Arch(R"({"name": "c", "op": "conv", "out_channels": "4", "kernel": 3})"),
              {"node 'c'", "out_channels", "integer"});
  ExpectError(Arch(R"({"name": "c", "op": "conv", "out_channels": 4, "kernel": [3]})"),
              {"node 'c'", "kernel", "[h, w]"});
  ExpectError(Arch(R"({"name": "c", "op": "conv", "out_channels": 4, "kernel": 2.5})"),
              {"node 'c'", "kernel"});
  ExpectError(Arch(R"({"name": "c", "op": "conv", "out_channels": 4, "kernel": 3, "bias": 1})"),
              {"node 'c'", "bias", "true or false"});
  ExpectError(Arch(R"({"name": "c", "op": "conv", "out_channels": 4, "kernel": 3,
                       "padding": "valid"})"),
              {"node 'c'", "padding", "same"});
  ExpectError(Arch(R"({"name": "d", "op": "dropout", "rate": "0.5"})"),
              {"node 'd'", "rate", "number"});
  ExpectError(Arch(R"({"name": "r", "op": "relu", "inputs": "input"})"),
              {"node 'r'", "inputs", "list"});
  ExpectError(Arch(R"({"name": "r", "op": "relu", "inputs": ["input", 3]})"),
              {"node 'r'", "inputs", "list"});
  ExpectError(Arch(R"({"name": 7, "op": "relu"})"), {"nodes[0]", "name"});
  ExpectError(Arch(R"({"name": "r", "op": ["relu"]})"), {"node 'r'", "op", "string"});
  ExpectError(R"({"input": [3, 8], "num_classes": 4, "nodes": []})", {"architecture", "input"});
  ExpectError(R"({"input": [3, 8, 0], "num_classes": 4, "nodes": []})", {"architecture", "input"});
  ExpectError(R"({"input": [3, 8, 8], "num_classes": 4.5, "nodes": []})",
              {"architecture", "num_classes", "integer"});
  ExpectError(R"({"input": [3, 8, 8], "num_classes": 4, "nodes": {}})", {"architecture", "nodes"});
  ExpectError(R"({"input": [3, 8, 8], "num_classes": 4, "output": 1, "nodes": []})",
              {"architecture", "output", "string"});
  ExpectError(Arch(R"({"name": "m", "op": "mbconv", "out_channels": 4, "activation": "softmax"})"),
              {"node 'm'", "activation"});
}

TEST(GraphJsonErrorTest, OutOfRange) {
  // 2^64 - 2 once came back as -2; 2^31 must not wrap either.
  ExpectError(Arch(R"({"name": "c", "op": "conv", "out_channels": 18446744073709551614,
                       "kernel": 3})"),
              {"node 'c'", "out_channels", "out of range"});
  ExpectError(Arch(R"({"name": "c", "op": "conv", "out_channels": 4,
                       "kernel": [3, 2147483648]})"),
              {"node 'c'", "kernel", "out of range"});
  ExpectError(Arch(R"({"name": "e", "op": "elu", "alpha": 1e300})"),
              {"node 'e'", "alpha", "range"});
  // "same" padding of a huge dilated kernel once overflowed int (UBSan sees it).
  absl::StatusOr<Graph> huge = GraphFromJson(Arch(R"({"name": "c", "op": "conv",
      "out_channels": 2, "kernel": 1073741824, "dilation": 1073741824, "padding": "same"})"));
  ASSERT_TRUE(huge.ok()) << huge.status();
  EXPECT_FALSE(AnalyzeGraph(*huge).ok());
  // A shufflenet unit of 0 groups once divided by zero while expanding.
  ExpectError(Arch(R"({"name": "s", "op": "shufflenet_unit", "out_channels": 6, "groups": 0})"),
              {"node 's'", "groups"});
  ExpectError(Arch(R"({"name": "m", "op": "mbconv", "out_channels": 4, "expand": 0})"),
              {"node 'm'", "expand"});
  ExpectError(Arch(R"({"name": "m", "op": "mbconv", "out_channels": 4, "se_ratio": 2})"),
              {"node 'm'", "se_ratio"});
}

TEST(GraphJsonErrorTest, UnknownOp) {
  ExpectError(Arch(R"({"name": "c", "op": "convolution"})"),
              {"node 'c'", "op", "unknown 'convolution'", "known: conv", "mbconv"});
}

TEST(GraphJsonErrorTest, MissingRequired) {
  ExpectError(Arch(R"({"name": "c", "op": "conv", "kernel": 3})"),
              {"node 'c'", "out_channels: required"});
  ExpectError(Arch(R"({"name": "c", "op": "conv", "out_channels": 3})"),
              {"node 'c'", "kernel: required"});
  ExpectError(Arch(R"({"name": "d", "op": "dense"})"), {"node 'd'", "units: required"});
  ExpectError(Arch(R"({"name": "p", "op": "max_pool"})"), {"node 'p'", "kernel: required"});
  ExpectError(Arch(R"({"name": "s", "op": "channel_shuffle"})"), {"node 's'", "groups: required"});
  ExpectError(Arch(R"({"name": "f", "op": "fire", "squeeze": 2, "expand1x1": 3})"),
              {"node 'f'", "expand3x3: required"});
  ExpectError(Arch(R"({"name": "s", "op": "shufflenet_unit", "out_channels": 6})"),
              {"node 's'", "groups: required"});
  ExpectError(Arch(R"({"name": "r"})"), {"node 'r'", "op: required"});
  ExpectError(Arch(R"({"op": "relu"})"), {"nodes[0]", "name: required"});
  ExpectError(R"({"num_classes": 4, "nodes": []})", {"architecture", "input", "required"});
  ExpectError(R"({"input": [3, 8, 8], "nodes": []})", {"architecture", "num_classes: required"});
  ExpectError(R"({"input": [3, 8, 8], "num_classes": 4})", {"architecture", "nodes", "required"});
}

TEST(GraphJsonErrorTest, ABlockReadsOneExistingInput) {
  ExpectError(Arch(R"({"name": "c", "op": "conv", "out_channels": 3, "kernel": 1},
                      {"name": "f", "op": "fire", "squeeze": 1, "expand1x1": 1, "expand3x3": 1,
                       "inputs": ["c", "input"]})"),
              {"node 'f'", "inputs", "one input"});
  ExpectError(Arch(R"({"name": "f", "op": "dw_separable", "out_channels": 4, "inputs": ["zz"]})"),
              {"node 'f'", "inputs", "'zz'"});
}

TEST(GraphJsonErrorTest, NotJson) {
  for (const char* text : {"", "{", R"({"input": [3, 8, 8],})", "nodes: []", "{\"a\": 1}}", "\xff"})
    ExpectError(text, {"architecture", "not valid JSON"});
}

TEST(GraphJsonErrorTest, NotAnObject) {
  for (const char* text : {"[]", "3", "\"conv\"", "null"})
    ExpectError(text, {"architecture", "must be a JSON object"});
  ExpectError(Arch("3"), {"nodes[0]", "must be an object"});
  ExpectError(Arch(R"({"name": "r", "op": "relu"}, [])"), {"nodes[1]", "must be an object"});
}

TEST(GraphJsonFileTest, ReadsAFileAndNamesItInErrors) {
  const std::string dir = ::testing::TempDir();
  const std::string good = dir + "/graph_json_test_good.json";
  const std::string bad = dir + "/graph_json_test_bad.json";
  std::ofstream(good) << kHandWritten;
  std::ofstream(bad) << Arch(R"({"name": "c", "op": "conv"})");
  absl::StatusOr<Graph> g = ReadGraphJsonFile(good);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->nodes.size(), 49u);
  absl::StatusOr<Graph> too_big = ReadGraphJsonFile(good, 100);
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<Graph> broken = ReadGraphJsonFile(bad);
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(std::string(broken.status().message()), HasSubstr(bad));
  EXPECT_THAT(std::string(broken.status().message()), HasSubstr("node 'c'"));
  EXPECT_EQ(ReadGraphJsonFile(dir + "/no_such_file.json").status().code(),
            absl::StatusCode::kNotFound);
  std::remove(good.c_str());
  std::remove(bad.c_str());
}

}  // namespace
}  // namespace edgenas
