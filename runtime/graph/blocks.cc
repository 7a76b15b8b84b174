#include "runtime/graph/blocks.h"

#include <algorithm>
#include <utility>

namespace edgenas {

Node& GraphBuilder::Append(const std::string& name, OpKind op, std::vector<std::string> inputs) {
  Node n;
  n.name = name;
  n.op = op;
  n.inputs = std::move(inputs);
  graph_->nodes.push_back(std::move(n));
  return graph_->nodes.back();
}

std::string GraphBuilder::Conv(const std::string& name, const std::string& input,
                               int out_channels, int kernel, int stride, int padding, int groups,
                               bool bias, int dilation) {
  Node& n = Append(name, OpKind::kConv, {input});
  ConvAttrs& a = n.conv;
  a.out_channels = out_channels;
  a.kernel_h = a.kernel_w = kernel;
  a.stride_h = a.stride_w = stride;
  a.pad_h = a.pad_w = padding >= 0 ? padding : dilation * (kernel - 1) / 2;
  a.dilation_h = a.dilation_w = dilation;
  a.groups = groups;
  a.bias = bias;
  return name;
}

std::string GraphBuilder::Dense(const std::string& name, const std::string& input, int units,
                                bool bias) {
  Node& n = Append(name, OpKind::kDense, {input});
  n.dense.units = units;
  n.dense.bias = bias;
  return name;
}

std::string GraphBuilder::BatchNorm(const std::string& name, const std::string& input) {
  Append(name, OpKind::kBatchNorm, {input});
  return name;
}

std::string GraphBuilder::Act(const std::string& name, const std::string& input, OpKind act) {
  Append(name, act, {input});
  return name;
}

std::string GraphBuilder::Pool(const std::string& name, const std::string& input, OpKind op,
                               int kernel, int stride, int padding) {
  Node& n = Append(name, op, {input});
  n.pool.kernel_h = n.pool.kernel_w = kernel;
  n.pool.stride_h = n.pool.stride_w = stride;
  n.pool.pad_h = n.pool.pad_w = padding;
  return name;
}

std::string GraphBuilder::PoolWindow(const std::string& name, const std::string& input, OpKind op,
                                     int kernel_h, int kernel_w, int stride_h, int stride_w) {
  Node& n = Append(name, op, {input});
  n.pool.kernel_h = kernel_h;
  n.pool.kernel_w = kernel_w;
  n.pool.stride_h = stride_h;
  n.pool.stride_w = stride_w;
  n.pool.pad_h = n.pool.pad_w = 0;
  return name;
}

std::string GraphBuilder::Op(const std::string& name, OpKind op, std::vector<std::string> inputs) {
  Append(name, op, std::move(inputs));
  return name;
}

std::string GraphBuilder::ConvBnAct(const std::string& prefix, const std::string& input,
                                    int /*in_channels*/, int out_channels, int kernel, int stride,
                                    int groups, std::optional<OpKind> act) {
  std::string x = Conv(prefix + "/conv", input, out_channels, kernel, stride, -1, groups, false);
  x = BatchNorm(prefix + "/bn", x);
  if (act) x = Act(prefix + "/act", x, *act);
  return x;
}

std::string GraphBuilder::DepthwiseSeparable(const std::string& prefix, const std::string& input,
                                             int in_channels, int out_channels, int kernel,
                                             int stride, OpKind act) {
  std::string x = ConvBnAct(prefix + "/dw", input, in_channels, in_channels, kernel, stride,
                            in_channels, act);
  return ConvBnAct(prefix + "/pw", x, in_channels, out_channels, 1, 1, 1, act);
}

std::string GraphBuilder::SqueezeExcite(const std::string& prefix, const std::string& input,
                                        int channels, int reduced_channels, OpKind gate) {
  std::string s = Op(prefix + "/pool", OpKind::kGlobalAvgPool, {input});
  s = Conv(prefix + "/reduce", s, std::max(1, reduced_channels), 1);
  s = Act(prefix + "/relu", s, OpKind::kRelu);
  s = Conv(prefix + "/expand", s, channels, 1);
  s = Act(prefix + "/gate", s, gate);
  return Op(prefix + "/scale", OpKind::kMultiply, {input, s});
}

std::string GraphBuilder::MBConv(const std::string& prefix, const std::string& input,
                                 int in_channels, int out_channels, int expand, int kernel,
                                 int stride, double se_ratio, OpKind act) {
  const int hidden = in_channels * expand;
  std::string x = input;
  if (expand != 1) x = ConvBnAct(prefix + "/expand", x, in_channels, hidden, 1, 1, 1, act);
  x = ConvBnAct(prefix + "/dw", x, hidden, hidden, kernel, stride, hidden, act);
  if (se_ratio > 0) {
    x = SqueezeExcite(prefix + "/se", x, hidden,
                      std::max(1, static_cast<int>(in_channels * se_ratio)));
  }
  x = ConvBnAct(prefix + "/project", x, hidden, out_channels, 1, 1, 1, std::nullopt);
  if (stride == 1 && in_channels == out_channels) x = Op(prefix + "/add", OpKind::kAdd, {x, input});
  return x;
}

std::string GraphBuilder::Fire(const std::string& prefix, const std::string& input, int squeeze,
                               int expand1x1, int expand3x3) {
  std::string s = Act(prefix + "/squeeze_relu", Conv(prefix + "/squeeze", input, squeeze, 1),
                      OpKind::kRelu);
  std::string e1 = Act(prefix + "/e1_relu", Conv(prefix + "/e1", s, expand1x1, 1), OpKind::kRelu);
  std::string e3 = Act(prefix + "/e3_relu", Conv(prefix + "/e3", s, expand3x3, 3), OpKind::kRelu);
  return Op(prefix + "/concat", OpKind::kConcat, {e1, e3});
}

std::string GraphBuilder::ShuffleUnit(const std::string& prefix, const std::string& input,
                                      int in_channels, int out_channels, int groups, int stride) {
  const int branch_out = stride == 1 ? out_channels : out_channels - in_channels;
  // The bottleneck is a quarter of the output, rounded to a multiple of groups.
  int mid = std::max(groups, (out_channels / 4) / groups * groups);
  std::string x = ConvBnAct(prefix + "/g1", input, in_channels, mid, 1, 1, groups, OpKind::kRelu);
  Node& shuffle = Append(prefix + "/shuffle", OpKind::kChannelShuffle, {x});
  shuffle.shuffle_groups = groups;
  x = shuffle.name;
  x = ConvBnAct(prefix + "/dw", x, mid, mid, 3, stride, mid, std::nullopt);
  x = ConvBnAct(prefix + "/g2", x, mid, branch_out, 1, 1, groups, std::nullopt);
  if (stride == 1) {
    x = Op(prefix + "/add", OpKind::kAdd, {x, input});
  } else {
    std::string shortcut = Pool(prefix + "/shortcut", input, OpKind::kAvgPool, 3, 2, 1);
    x = Op(prefix + "/concat", OpKind::kConcat, {shortcut, x});
  }
  return Act(prefix + "/relu", x, OpKind::kRelu);
}

}  // namespace edgenas
