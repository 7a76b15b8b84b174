#include "runtime/graph/graph_proto.h"

#include <google/protobuf/util/message_differencer.h>

#include <cctype>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/graph/graph_json.h"
#include "runtime/graph/presets.h"
#include "runtime/testing/random_graph.h"

namespace edgenas {
namespace {

using ::testing::HasSubstr;

// Through the wire bytes and back; compared by the JSON text (another
// serialisation, which writes every attribute an op reads) and by the proto.
void ExpectRoundTrip(const Graph& g, const std::string& what) {
  v1::Graph proto;
  GraphToProto(g, &proto);
  std::string bytes;
  ASSERT_TRUE(proto.SerializeToString(&bytes));
  v1::Graph parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  absl::StatusOr<Graph> back = GraphFromProto(parsed);
  ASSERT_TRUE(back.ok()) << what << ": " << back.status();
  EXPECT_EQ(GraphToJson(*back), GraphToJson(g)) << what;
  v1::Graph again;
  GraphToProto(*back, &again);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(proto, again)) << what;
  absl::StatusOr<std::string> h1 = CanonicalHash(g), h2 = CanonicalHash(*back);
  ASSERT_TRUE(h1.ok() && h2.ok()) << what;
  EXPECT_EQ(*h1, *h2) << what;
}

TEST(GraphProtoTest, RoundTripsPresets) {
  for (const std::string& name : PresetNames()) ExpectRoundTrip(*Preset(name), name);
}

TEST(GraphProtoTest, RoundTripsRandomGraphs) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::mt19937_64 rng(seed);
    ExpectRoundTrip(RandomGraph(rng, RandomGraphOptions()), "seed " + std::to_string(seed));
  }
}

TEST(GraphProtoTest, WritesTheWireEnumAndOnlyTheOpsOwnAttributes) {
  Graph g = *Preset("cnn-bn");
  v1::Graph p;
  GraphToProto(g, &p);
  EXPECT_EQ(p.input().channels(), 1);
  EXPECT_EQ(p.input().height(), 28);
  EXPECT_EQ(p.num_classes(), 10);
  const v1::Node& conv1 = p.nodes(g.Find("conv1"));
  EXPECT_EQ(conv1.op(), v1::OP_CONV);
  EXPECT_EQ(conv1.conv().out_channels(), 32);
  EXPECT_EQ(conv1.conv().pad_h(), 1);
  EXPECT_TRUE(conv1.conv().bias());
  EXPECT_EQ(p.nodes(g.Find("pool1")).op(), v1::OP_MAX_POOL);
  EXPECT_EQ(p.nodes(g.Find("pool1")).pool().stride_w(), 2);
  EXPECT_EQ(p.nodes(g.Find("bn1")).op(), v1::OP_BATCH_NORM);
  EXPECT_FLOAT_EQ(p.nodes(g.Find("bn1")).batch_norm().epsilon(), 1e-5f);
  const v1::Node& relu = p.nodes(g.Find("relu1"));
  EXPECT_EQ(relu.op(), v1::OP_RELU);
  EXPECT_EQ(relu.attrs_case(), v1::Node::ATTRS_NOT_SET);
  EXPECT_EQ(relu.alpha(), 0);  // the default 1.0 of Node is not written for relu
  EXPECT_EQ(p.nodes(g.Find("fc1")).dense().units(), 128);
  // Every OpKind maps to the wire enum of the same name.
  for (const std::string& name : AllOpNames()) {
    Graph one;
    one.nodes.resize(1);
    one.nodes[0].op = *OpFromName(name);
    v1::Graph q;
    GraphToProto(one, &q);
    std::string wire = v1::Op_Name(q.nodes(0).op());
    std::string want = "OP_" + name;
    for (char& c : want) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(wire, want);
  }
}

// A proto node for the graph below: conv c1 over the input, relu r1, dense fc.
v1::Graph ValidProto() {
  v1::Graph p;
  p.mutable_input()->set_channels(3);
  p.mutable_input()->set_height(8);
  p.mutable_input()->set_width(8);
  p.set_num_classes(4);
  v1::Node* c = p.add_nodes();
  c->set_name("c1");
  c->set_op(v1::OP_CONV);
  c->add_inputs("input");
  v1::ConvAttrs* a = c->mutable_conv();
  a->set_out_channels(2);
  a->set_kernel_h(3);
  a->set_kernel_w(3);
  a->set_stride_h(1);
  a->set_stride_w(1);
  a->set_dilation_h(1);
  a->set_dilation_w(1);
  a->set_groups(1);
  v1::Node* r = p.add_nodes();
  r->set_name("r1");
  r->set_op(v1::OP_RELU);
  r->add_inputs("c1");
  v1::Node* d = p.add_nodes();
  d->set_name("fc");
  d->set_op(v1::OP_DENSE);
  d->add_inputs("r1");
  d->mutable_dense()->set_units(4);
  return p;
}

void ExpectRefused(const v1::Graph& p, const std::vector<std::string>& parts) {
  absl::StatusOr<Graph> g = GraphFromProto(p);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(g.status().message());
  for (const std::string& part : parts) EXPECT_THAT(message, HasSubstr(part));
}

TEST(GraphProtoTest, TheValidProtoIsAccepted) {
  absl::StatusOr<Graph> g = GraphFromProto(ValidProto());
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->nodes.size(), 3u);
  EXPECT_EQ(g->nodes[0].conv.out_channels, 2);
  EXPECT_FALSE(g->nodes[0].conv.bias);
  EXPECT_EQ(g->nodes[1].op, OpKind::kRelu);
  EXPECT_TRUE(AnalyzeGraph(*g).ok());
}

TEST(GraphProtoTest, RefusesUnknownOps) {
  for (int op : {0, 21, 99, -1}) {
    v1::Graph p = ValidProto();
    p.mutable_nodes(1)->set_op(static_cast<v1::Op>(op));
    ExpectRefused(p, {"nodes[1]", "'r1'", "op", "unknown op " + std::to_string(op)});
  }
  // Also when the value arrives on the wire (proto3 enums are open).
  v1::Graph p = ValidProto();
  p.mutable_nodes(1)->set_op(static_cast<v1::Op>(77));
  std::string bytes = p.SerializeAsString();
  v1::Graph parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  ExpectRefused(parsed, {"nodes[1]", "unknown op 77"});
}

TEST(GraphProtoTest, RefusesAttributesOfAnotherOp) {
  v1::Graph p = ValidProto();
  p.mutable_nodes(1)->mutable_conv()->set_out_channels(2);
  ExpectRefused(p, {"nodes[1] 'r1'", "conv: not for this op"});
  p = ValidProto();
  p.mutable_nodes(1)->mutable_pool();
  ExpectRefused(p, {"nodes[1] 'r1'", "pool: not for this op"});
  p = ValidProto();
  p.mutable_nodes(0)->mutable_dense()->set_units(3);  // replaces the conv attrs (oneof)
  ExpectRefused(p, {"nodes[0] 'c1'", "conv: required"});
  p = ValidProto();
  p.mutable_nodes(2)->mutable_batch_norm()->set_epsilon(1e-3f);
  ExpectRefused(p, {"nodes[2] 'fc'", "dense: required"});
  p = ValidProto();
  p.mutable_nodes(1)->mutable_batch_norm();
  ExpectRefused(p, {"nodes[1] 'r1'", "batch_norm: not for this op"});
  // The scalar attributes outside the oneof: once silently dropped.
  p = ValidProto();
  p.mutable_nodes(1)->set_alpha(0.5f);
  ExpectRefused(p, {"nodes[1] 'r1'", "alpha: not for this op"});
  p = ValidProto();
  p.mutable_nodes(0)->set_rate(0.5f);
  ExpectRefused(p, {"nodes[0] 'c1'", "rate: not for this op"});
  p = ValidProto();
  p.mutable_nodes(2)->set_shuffle_groups(2);
  ExpectRefused(p, {"nodes[2] 'fc'", "shuffle_groups: not for this op"});
}

TEST(GraphProtoTest, RequiresTheOpsOwnAttributes) {
  v1::Graph p = ValidProto();
  p.mutable_nodes(0)->clear_conv();
  ExpectRefused(p, {"nodes[0] 'c1'", "conv: required"});
  p = ValidProto();
  p.mutable_nodes(1)->set_op(v1::OP_MAX_POOL);
  ExpectRefused(p, {"nodes[1] 'r1'", "pool: required"});
}

TEST(GraphProtoTest, OwnScalarAttributesAndBatchNormDefaults) {
  v1::Graph p = ValidProto();
  v1::Node* r = p.mutable_nodes(1);
  r->set_op(v1::OP_ELU);
  r->set_alpha(0.25f);
  absl::StatusOr<Graph> g = GraphFromProto(p);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->nodes[1].alpha, 0.25f);
  // A batch norm without attributes keeps the IR's defaults.
  r->set_op(v1::OP_BATCH_NORM);
  r->set_alpha(0);
  g = GraphFromProto(p);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->nodes[1].bn_epsilon, Node().bn_epsilon);
  EXPECT_EQ(g->nodes[1].bn_momentum, Node().bn_momentum);
  r->mutable_batch_norm()->set_momentum(0.2f);
  g = GraphFromProto(p);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->nodes[1].bn_momentum, 0.2f);
}

}  // namespace
}  // namespace edgenas
