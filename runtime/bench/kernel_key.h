// The canonical name of an inference kernel: its op, the attributes that
// change its cost, and its input shape; never a node's name. Two kernels
// with one key run the same oneDNN work, so a latency measured for one
// stands for the other (the lookup table of a latency predictor).
//
//   conv k3x3 s1 g1 c16>32 in16x14x14 +relu6    conv, folded BN, fused relu6
//   conv k5x5 s2 g96 c96>96 in96x14x14 +relu6   depthwise
//   pool max k3 s2 p1 in32x28x28
//   pool gap in96x4x4
//   dense c96>10 in96x1x1
//   add n2 in32x7x7      multiply in96x7x7 by96x1x1      concat in8x7x7+8x7x7
//
// Words: the op first ("pool" then max | avg | gap), then k (kernel), s
// (stride), p (padding: pools when not 0, convs when not "same", i.e. not
// dilation * (kernel - 1) / 2), d (dilation, when not 1), g (groups), n
// (inputs of add), c (channels in>out), in (input shapes, '+' between
// several), by (multiply's second input), and +act for each activation
// fused into the kernel. k, s, p and d print one number when height and
// width agree, "HxW" otherwise (conv kernels always print HxW).
#ifndef EDGENAS_RUNTIME_BENCH_KERNEL_KEY_H_
#define EDGENAS_RUNTIME_BENCH_KERNEL_KEY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph.h"

namespace edgenas {

// The key of the kernel that runs node `v` of `graph` (`info` from
// AnalyzeGraph) with the activation nodes `fused` applied inside it. A batch
// norm folded into a conv or dense changes nothing in the key: the kernel
// has a bias either way.
std::string KernelKey(const Graph& graph, const GraphInfo& info, int v,
                      const std::vector<int>& fused);

// What a key says about the work of its kernel, so that a kernel never
// measured can be estimated from measured ones of its family.
struct KernelFeatures {
  std::string op;        // the first word: "conv", "pool", "add", ...
  std::string family;    // kernels that cost alike per unit of work: "conv dw k3x3 s2",
                         // "conv full k1x1 s1", "pool max k3 s2 p1", "add"
  int64_t macs = 0;      // multiply-adds per sample (conv, dense); as GraphInfo counts them
  int64_t elements = 0;  // input elements per sample, every input
  // What the kernel's time grows with: multiply-adds where it has them,
  // else the elements it reads.
  double work() const {
    return macs > 0 ? static_cast<double>(macs) : static_cast<double>(elements);
  }
};

// Reads a key written by KernelKey; an error names the word it could not read.
absl::StatusOr<KernelFeatures> ParseKernelKey(const std::string& key);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_BENCH_KERNEL_KEY_H_
