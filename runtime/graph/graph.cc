#include "runtime/graph/graph.h"

#include <array>
#include <utility>

namespace edgenas {
namespace {

constexpr std::array<std::pair<OpKind, const char*>, 20> kOpNames = {{
    {OpKind::kConv, "conv"},
    {OpKind::kDense, "dense"},
    {OpKind::kMaxPool, "max_pool"},
    {OpKind::kAvgPool, "avg_pool"},
    {OpKind::kGlobalAvgPool, "global_avg_pool"},
    {OpKind::kBatchNorm, "batch_norm"},
    {OpKind::kRelu, "relu"},
    {OpKind::kRelu6, "relu6"},
    {OpKind::kElu, "elu"},
    {OpKind::kSigmoid, "sigmoid"},
    {OpKind::kHardSigmoid, "hard_sigmoid"},
    {OpKind::kTanh, "tanh"},
    {OpKind::kHardSwish, "hard_swish"},
    {OpKind::kAdd, "add"},
    {OpKind::kMultiply, "multiply"},
    {OpKind::kConcat, "concat"},
    {OpKind::kChannelShuffle, "channel_shuffle"},
    {OpKind::kFlatten, "flatten"},
    {OpKind::kDropout, "dropout"},
    {OpKind::kSoftmax, "softmax"},
}};

}  // namespace

const char* OpName(OpKind op) {
  for (const auto& [kind, name] : kOpNames) {
    if (kind == op) return name;
  }
  return "unknown";
}

std::optional<OpKind> OpFromName(std::string_view name) {
  for (const auto& [kind, n] : kOpNames) {
    if (name == n) return kind;
  }
  return std::nullopt;
}

std::vector<std::string> AllOpNames() {
  std::vector<std::string> names;
  for (const auto& entry : kOpNames) names.push_back(entry.second);
  return names;
}

bool IsActivation(OpKind op) {
  switch (op) {
    case OpKind::kRelu:
    case OpKind::kRelu6:
    case OpKind::kElu:
    case OpKind::kSigmoid:
    case OpKind::kHardSigmoid:
    case OpKind::kTanh:
    case OpKind::kHardSwish:
      return true;
    default:
      return false;
  }
}

const std::string& Graph::OutputName() const {
  static const std::string kEmpty;
  if (!output.empty()) return output;
  return nodes.empty() ? kEmpty : nodes.back().name;
}

int Graph::Find(std::string_view name) const {
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace edgenas
