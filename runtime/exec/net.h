// CompiledNet: a graph prepared once for one batch size and one mode.
//
// Built once: primitive descriptors from format_tag::any, reorders only where
// layouts differ, max-pool workspaces, memory reused across steps. Running it
// only walks the prepared lists. The weights stay in the ParamStore (shared
// with other nets); the net reloads them when the store's version changes.
//
// Threads: oneDNN primitives run on the thread that runs the net, with its
// OpenMP team; in inference, kernels with little work run on one thread
// (the caller's thread count is restored after each). An inference net whose
// every step is one of our kernels built for it (Step::team) or set to one
// thread runs its forward pass on a single OpenMP team, a barrier between
// steps, instead of starting a team per kernel. One compute thread
// owns a net; nothing else may call it concurrently.
#ifndef EDGENAS_RUNTIME_EXEC_NET_H_
#define EDGENAS_RUNTIME_EXEC_NET_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/exec/layer.h"
#include "runtime/exec/net_mode.h"
#include "runtime/exec/params.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph.h"

namespace edgenas {

struct NetOptions {
  NetMode mode = NetMode::kInference;
  int batch = 1;
  uint64_t seed = 1;     // dropout masks
  bool profile = false;  // time every step (see Profile)
};

// Where the time of the passes since the last ResetProfile went.
struct NetProfile {
  double total_ms = 0;      // wall time inside Forward/Backward
  double primitive_ms = 0;  // inside oneDNN primitives
  double kernel_ms = 0;     // inside our own compute kernels (bn_act, bn_pool, dw_conv_grad, ...)
  double function_ms = 0;   // inside the net's other steps (statistics, ...)
  int64_t passes = 0;
  // Per (phase, node, step kind): "forward conv1 convolution" -> ms.
  std::map<std::string, double> by_step;
  // Forward ms per graph node (indexed like Graph::nodes): the steps its
  // layer appended, reorders into its layout included; empty before the
  // first profiled forward pass.
  std::vector<double> forward_node_ms;
};

class CompiledNet {
 public:
  // `params` must hold every tensor of the graph (see InitParams) and outlive
  // the net; the net neither owns nor resizes it.
  static absl::StatusOr<std::unique_ptr<CompiledNet>> Create(const Graph& graph, ParamStore* params,
                                                             const NetOptions& options);

  // `input`: batch x C x H x W floats, NCHW. Runs the forward list.
  void Forward(const float* input);
  // batch x num_classes logits of the last Forward, row-major. In inference
  // mode a trailing softmax node is applied; in training the logits are the
  // softmax's input (the loss owns the softmax).
  const float* Logits() const;
  // Training only: back-propagates `dlogits` (batch x num_classes, the
  // gradient of the loss with respect to Logits()) and fills Grads().
  void Backward(const float* dlogits);
  // Parameter gradients of the last Backward, keyed like the ParamStore.
  const std::map<std::string, ParamTensor>& Grads() const { return grads_; }

  const Graph& graph() const { return graph_; }
  const GraphInfo& info() const { return info_; }
  int batch() const { return options_.batch; }
  NetMode mode() const { return options_.mode; }
  const NetProfile& profile() const { return profile_; }
  void ResetProfile() { profile_ = NetProfile(); }
  // Turns step timing on or off for the passes that follow.
  void SetProfiling(bool on) { options_.profile = on; }
  bool profiling() const { return options_.profile; }
  int64_t num_primitives() const;
  // Whether the forward pass runs on one OpenMP team (see above).
  bool runs_on_one_team() const { return one_team_; }

  ~CompiledNet();

 private:
  CompiledNet(Graph graph, GraphInfo info, ParamStore* params, const NetOptions& options);
  absl::Status Build();
  void Run(std::vector<Step>& list, const char* phase, bool forward = false);

  Graph graph_;
  GraphInfo info_;
  FusionPlan plan_;
  ParamStore* params_;
  NetOptions options_;
  std::unique_ptr<dnnl::stream> stream_;
  std::vector<std::unique_ptr<Layer>> layers_;
  NetLists lists_;
  std::map<std::string, ParamTensor> grads_;
  std::vector<Value> values_;
  Value input_;
  dnnl::memory logits_;   // plain (batch, classes)
  dnnl::memory dlogits_;  // plain (batch, classes)
  uint64_t loaded_version_ = 0;
  // The forward list runs on one OpenMP team (RunOnOneTeam in net.cc).
  bool one_team_ = false;
  NetProfile profile_;
};

// Decides what the net fuses at this batch size (exposed for tests and
// kernel profiles).
FusionPlan PlanFusion(const Graph& graph, const GraphInfo& info, NetMode mode, int batch);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_NET_H_
