// An inference net as a list of kernels, and the time of each.
//
// A kernel is what one layer of an inference CompiledNet runs after fusion
// (PlanFusion): a conv with its folded batch norm and its fused activation
// is one kernel; a dropout is an alias and none. Kernels are named by
// KernelKey (kernel_key.h), so the kernels of two graphs can be compared
// and a latency predictor can decompose a graph it has never run.
#ifndef EDGENAS_RUNTIME_BENCH_KERNEL_PROFILE_H_
#define EDGENAS_RUNTIME_BENCH_KERNEL_PROFILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/exec/net.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph.h"

namespace edgenas {

struct Kernel {
  std::string key;         // KernelKey: op, attributes, input shape; no node names
  int node = -1;           // the node whose layer runs it
  std::vector<int> nodes;  // every node it covers: `node`, a folded batch norm, fused activations
};

// The kernels of `graph` (`info` from AnalyzeGraph) as an inference net at
// `batch` runs them, in execution order, without building the net.
std::vector<Kernel> InferenceKernels(const Graph& graph, const GraphInfo& info, int batch);
// Their keys at batch 1 (the latency a device reports); an invalid graph is
// an error from AnalyzeGraph.
absl::StatusOr<std::vector<std::string>> InferenceKernelKeys(const Graph& graph);

struct KernelProfileOptions {
  int warmup = 3;   // unprofiled passes first
  int repeat = 15;  // profiled passes; each kernel's time is its median over them
};

struct KernelTiming {
  std::string key;
  int node = -1;
  double ms = 0;  // median per pass; includes a step's timer reads (tens of ns)
};

// Runs `net` (inference mode) `warmup` + `repeat` times on a fixed random
// input, timing every step, and returns each kernel's median ms in the
// order of InferenceKernels. A kernel that appended no steps (a flatten of
// a plain value) takes 0 ms. The net's profiling setting is restored and
// its profile reset afterwards.
absl::StatusOr<std::vector<KernelTiming>> ProfileKernels(CompiledNet& net,
                                                         const KernelProfileOptions& options);

absl::Status ValidateKernelProfileOptions(const KernelProfileOptions& options);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_BENCH_KERNEL_PROFILE_H_
