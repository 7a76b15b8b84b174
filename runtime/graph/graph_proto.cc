#include "runtime/graph/graph_proto.h"

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

// The wire enum mirrors OpKind one to one, in the same order from 1.
v1::Op ToWire(OpKind op) { return static_cast<v1::Op>(static_cast<int>(op) + 1); }

bool FromWire(v1::Op op, OpKind* out) {
  int v = static_cast<int>(op);
  if (v < 1 || v > static_cast<int>(OpKind::kSoftmax) + 1) return false;
  *out = static_cast<OpKind>(v - 1);
  return true;
}

}  // namespace

void GraphToProto(const Graph& g, v1::Graph* out) {
  out->Clear();
  out->mutable_input()->set_channels(g.input.channels);
  out->mutable_input()->set_height(g.input.height);
  out->mutable_input()->set_width(g.input.width);
  out->set_num_classes(g.num_classes);
  out->set_output(g.output);
  for (const Node& n : g.nodes) {
    v1::Node* p = out->add_nodes();
    p->set_name(n.name);
    p->set_op(ToWire(n.op));
    for (const std::string& in : n.inputs) p->add_inputs(in);
    switch (n.op) {
      case OpKind::kConv: {
        v1::ConvAttrs* a = p->mutable_conv();
        a->set_out_channels(n.conv.out_channels);
        a->set_kernel_h(n.conv.kernel_h);
        a->set_kernel_w(n.conv.kernel_w);
        a->set_stride_h(n.conv.stride_h);
        a->set_stride_w(n.conv.stride_w);
        a->set_pad_h(n.conv.pad_h);
        a->set_pad_w(n.conv.pad_w);
        a->set_dilation_h(n.conv.dilation_h);
        a->set_dilation_w(n.conv.dilation_w);
        a->set_groups(n.conv.groups);
        a->set_bias(n.conv.bias);
        break;
      }
      case OpKind::kDense:
        p->mutable_dense()->set_units(n.dense.units);
        p->mutable_dense()->set_bias(n.dense.bias);
        break;
      case OpKind::kMaxPool:
      case OpKind::kAvgPool: {
        v1::PoolAttrs* a = p->mutable_pool();
        a->set_kernel_h(n.pool.kernel_h);
        a->set_kernel_w(n.pool.kernel_w);
        a->set_stride_h(n.pool.stride_h);
        a->set_stride_w(n.pool.stride_w);
        a->set_pad_h(n.pool.pad_h);
        a->set_pad_w(n.pool.pad_w);
        break;
      }
      case OpKind::kBatchNorm:
        p->mutable_batch_norm()->set_epsilon(n.bn_epsilon);
        p->mutable_batch_norm()->set_momentum(n.bn_momentum);
        break;
      case OpKind::kElu:
        p->set_alpha(n.alpha);
        break;
      case OpKind::kDropout:
        p->set_rate(n.rate);
        break;
      case OpKind::kChannelShuffle:
        p->set_shuffle_groups(n.shuffle_groups);
        break;
      default:
        break;
    }
  }
}

absl::StatusOr<Graph> GraphFromProto(const v1::Graph& p) {
  Graph g;
  g.input = Shape3{p.input().channels(), p.input().height(), p.input().width()};
  g.num_classes = p.num_classes();
  g.output = p.output();
  g.nodes.reserve(p.nodes_size());
  for (int i = 0; i < p.nodes_size(); ++i) {
    const v1::Node& pn = p.nodes(i);
    Node n;
    n.name = pn.name();
    auto err = [&](absl::string_view field, absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat("graph.nodes[", i, "] '", n.name.substr(0, 128), "': ", field, ": ", what));
    };
    if (!FromWire(pn.op(), &n.op)) return err("op", absl::StrCat("unknown op ", pn.op()));
    n.inputs.assign(pn.inputs().begin(), pn.inputs().end());
    const bool wants_conv = n.op == OpKind::kConv, wants_dense = n.op == OpKind::kDense;
    const bool wants_pool = n.op == OpKind::kMaxPool || n.op == OpKind::kAvgPool;
    const bool wants_bn = n.op == OpKind::kBatchNorm;
    if (pn.has_conv() != wants_conv) return err("conv", wants_conv ? "required" : "not for this op");
    if (pn.has_dense() != wants_dense)
      return err("dense", wants_dense ? "required" : "not for this op");
    if (pn.has_pool() != wants_pool) return err("pool", wants_pool ? "required" : "not for this op");
    if (pn.has_batch_norm() && !wants_bn) return err("batch_norm", "not for this op");
    // proto3 cannot tell unset from 0, so a non-zero value marks the field set.
    if (pn.alpha() != 0 && n.op != OpKind::kElu) return err("alpha", "not for this op");
    if (pn.rate() != 0 && n.op != OpKind::kDropout) return err("rate", "not for this op");
    if (pn.shuffle_groups() != 0 && n.op != OpKind::kChannelShuffle)
      return err("shuffle_groups", "not for this op");
    if (wants_conv) {
      const v1::ConvAttrs& a = pn.conv();
      n.conv = ConvAttrs{a.out_channels(), a.kernel_h(),   a.kernel_w(),   a.stride_h(),
                         a.stride_w(),     a.pad_h(),      a.pad_w(),      a.dilation_h(),
                         a.dilation_w(),   a.groups(),     a.bias()};
    }
    if (wants_dense) n.dense = DenseAttrs{pn.dense().units(), pn.dense().bias()};
    if (wants_pool) {
      const v1::PoolAttrs& a = pn.pool();
      n.pool = PoolAttrs{a.kernel_h(), a.kernel_w(), a.stride_h(), a.stride_w(), a.pad_h(), a.pad_w()};
    }
    if (wants_bn && pn.has_batch_norm()) {
      n.bn_epsilon = pn.batch_norm().epsilon();
      n.bn_momentum = pn.batch_norm().momentum();
    }
    if (n.op == OpKind::kElu) n.alpha = pn.alpha();
    if (n.op == OpKind::kDropout) n.rate = pn.rate();
    if (n.op == OpKind::kChannelShuffle) n.shuffle_groups = pn.shuffle_groups();
    g.nodes.push_back(std::move(n));
  }
  return g;
}

}  // namespace edgenas
