// The model graph: a DAG of named nodes over one input tensor.
//
// One graph type serves every part. It holds structure and attributes only;
// weights live in a ParamStore keyed by node name, so several compiled nets
// can share one set of weights and morphs can rewrite them by node.
#ifndef EDGENAS_RUNTIME_GRAPH_GRAPH_H_
#define EDGENAS_RUNTIME_GRAPH_GRAPH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgenas {

enum class OpKind {
  kConv,
  kDense,
  kMaxPool,
  kAvgPool,
  kGlobalAvgPool,
  kBatchNorm,
  kRelu,
  kRelu6,
  kElu,
  kSigmoid,
  kHardSigmoid,
  kTanh,
  kHardSwish,
  kAdd,
  kMultiply,
  kConcat,
  kChannelShuffle,
  kFlatten,
  kDropout,
  kSoftmax,
};

// The name used in JSON architectures and error messages ("conv", "max_pool").
const char* OpName(OpKind op);
std::optional<OpKind> OpFromName(std::string_view name);
std::vector<std::string> AllOpNames();

// True for the single-input elementwise activations.
bool IsActivation(OpKind op);

struct ConvAttrs {
  int out_channels = 0;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int dilation_h = 1, dilation_w = 1;  // 1 = no holes
  int groups = 1;
  bool bias = true;
};

struct DenseAttrs {
  int units = 0;
  bool bias = true;
};

struct PoolAttrs {
  int kernel_h = 2, kernel_w = 2;
  int stride_h = 2, stride_w = 2;
  int pad_h = 0, pad_w = 0;
};

struct Node {
  std::string name;
  OpKind op = OpKind::kRelu;
  std::vector<std::string> inputs;  // node names; kInputName is the graph input

  // Attributes; each op reads only its own.
  ConvAttrs conv;
  DenseAttrs dense;
  PoolAttrs pool;
  float bn_epsilon = 1e-5f;
  float bn_momentum = 0.1f;  // weight of the new batch in the running statistics
  float alpha = 1.0f;        // elu
  float rate = 0.5f;         // dropout probability of zeroing
  int shuffle_groups = 2;    // channel shuffle
};

inline constexpr char kInputName[] = "input";

struct Shape3 {
  int channels = 0, height = 0, width = 0;
  int64_t elements() const { return int64_t{channels} * height * width; }
  bool operator==(const Shape3& o) const {
    return channels == o.channels && height == o.height && width == o.width;
  }
};

struct Graph {
  Shape3 input;
  int num_classes = 0;
  std::vector<Node> nodes;
  std::string output;  // the node producing the logits; empty = the last node

  // The effective output name (output, or the last node's name).
  const std::string& OutputName() const;
  // Index of the node with this name, or -1.
  int Find(std::string_view name) const;
};

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_GRAPH_GRAPH_H_
