// Builders for the composite blocks that search spaces use. Each expands
// into plain ops of the graph IR (no new runtime op), names its nodes
// "<prefix>/<part>", reads `input` and returns the name of its output node.
#ifndef EDGENAS_RUNTIME_GRAPH_BLOCKS_H_
#define EDGENAS_RUNTIME_GRAPH_BLOCKS_H_

#include <optional>
#include <string>

#include "runtime/graph/graph.h"

namespace edgenas {

class GraphBuilder {
 public:
  // The builder appends to `graph`, which must outlive it.
  explicit GraphBuilder(Graph* graph) : graph_(graph) {}

  std::string Conv(const std::string& name, const std::string& input, int out_channels,
                   int kernel, int stride = 1, int padding = -1 /* -1: same */, int groups = 1,
                   bool bias = true, int dilation = 1);
  std::string Dense(const std::string& name, const std::string& input, int units, bool bias = true);
  std::string BatchNorm(const std::string& name, const std::string& input);
  std::string Act(const std::string& name, const std::string& input, OpKind act);
  std::string Pool(const std::string& name, const std::string& input, OpKind op, int kernel,
                   int stride, int padding = 0);
  // A kernel_h x kernel_w window at strides (stride_h, stride_w), no padding.
  std::string PoolWindow(const std::string& name, const std::string& input, OpKind op,
                         int kernel_h, int kernel_w, int stride_h, int stride_w);
  std::string Op(const std::string& name, OpKind op, std::vector<std::string> inputs);

  // conv (no bias) + batch norm + activation (none when act is nullopt).
  std::string ConvBnAct(const std::string& prefix, const std::string& input, int in_channels,
                        int out_channels, int kernel, int stride, int groups,
                        std::optional<OpKind> act);

  // MobileNet: depthwise kxk + BN + act, then pointwise 1x1 + BN + act.
  std::string DepthwiseSeparable(const std::string& prefix, const std::string& input,
                                 int in_channels, int out_channels, int kernel, int stride,
                                 OpKind act = OpKind::kRelu6);

  // Squeeze-and-excite: global pool, 1x1 reduce + relu, 1x1 expand + gate,
  // multiply broadcast over H and W.
  std::string SqueezeExcite(const std::string& prefix, const std::string& input, int channels,
                            int reduced_channels, OpKind gate = OpKind::kHardSigmoid);

  // MobileNetV2 inverted residual: 1x1 expand (skipped at expand 1) + BN +
  // act, depthwise kxk + BN + act, optional SE, 1x1 project + BN (linear),
  // identity add when stride is 1 and channels match.
  std::string MBConv(const std::string& prefix, const std::string& input, int in_channels,
                     int out_channels, int expand, int kernel, int stride, double se_ratio = 0,
                     OpKind act = OpKind::kRelu6);

  // SqueezeNet Fire: squeeze 1x1 + relu, then concat(expand 1x1 + relu, expand 3x3 + relu).
  std::string Fire(const std::string& prefix, const std::string& input, int squeeze,
                   int expand1x1, int expand3x3);

  // ShuffleNet (v1) unit: grouped 1x1 + BN + relu, channel shuffle, depthwise
  // 3x3 + BN, grouped 1x1 + BN; stride 1: add the input, then relu; stride 2:
  // concat with a 3x3/2 average pool of the input, then relu (the unit's own
  // branch then makes out_channels - in_channels channels).
  std::string ShuffleUnit(const std::string& prefix, const std::string& input, int in_channels,
                          int out_channels, int groups, int stride);

 private:
  Node& Append(const std::string& name, OpKind op, std::vector<std::string> inputs);
  Graph* graph_;
};

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_GRAPH_BLOCKS_H_
