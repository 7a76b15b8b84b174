// The extension point of the executor: one Layer per op kind, made by name
// from a registry (the caller never names the concrete class). A layer runs
// nothing itself: while the net is built it appends oneDNN primitives (or,
// where oneDNN has none, small functions) to the net's prepared lists, in
// the manner of oneDNN's cnn_training_f32 example.
#ifndef EDGENAS_RUNTIME_EXEC_LAYER_H_
#define EDGENAS_RUNTIME_EXEC_LAYER_H_

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "runtime/exec/dnnl_util.h"
#include "runtime/exec/params.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph.h"

namespace edgenas {

using Args = std::unordered_map<int, dnnl::memory>;

// One entry of a prepared list: a primitive with its arguments, or a function.
struct Step {
  dnnl::primitive prim;
  Args args;
  std::function<void()> fn;
  int node = -1;  // for profiles; -1 for the net's own steps
  // For fn: the name of the compute kernel it runs (our own, e.g. "bn_act"),
  // or null for bookkeeping (statistics, re-pointing buffers).
  const char* kernel = nullptr;
  // OpenMP threads to run with; 0: the caller's. Small inference kernels run
  // on one (see CompiledNet::Build).
  int threads = 0;
  // For fn: all its work is one ParallelRun (parallel.h), so every thread of
  // a team may call it, each doing its share.
  bool team = false;
};

// One activation of the net and, in training, its gradient.
struct Value {
  MemDesc md;
  dnnl::memory mem;
  bool needs_grad = false;
  std::vector<dnnl::memory> diff_parts;  // one per consumer that sends a gradient
  dnnl::memory diff;                     // in `md`, once the parts are summed
};

// Rewrites the net makes while it is built. Inference: batch norm folded
// into the conv or dense before it, activations fused as post-ops, a
// residual add after a conv done by the conv as a sum post-op, dropout
// removed. Both modes: a ReLU after batch norm runs inside it. Training:
// other activations after batch norm run in our kernel (bn_act.h), and so
// does a max pool whose windows tile the image, with the activation between
// (the batch norm's value is then the pooled tensor).
struct FusionPlan {
  std::vector<int> alias;      // node -> node whose value it is, or -1
  std::vector<int> folded_bn;  // conv/dense -> batch-norm node folded in, or -1
  // conv/dense/batch norm -> activations applied in it, in order; a conv's
  // list may hold an add (a sum post-op) and the activation after it.
  std::vector<std::vector<int>> fused;
  std::vector<int> sum_residual;  // conv -> the add's other input, summed in place, or -1
};

struct NetLists {
  std::vector<Step> load;  // before a forward pass, when the weights changed
  std::vector<Step> forward;
  std::vector<Step> backward;
  std::vector<Step> grad_out;  // gradients to their canonical layout
};

// What a layer sees while the net is built.
class NetBuilder {
 public:
  NetBuilder(const Graph& graph, const GraphInfo& info, const FusionPlan& plan, ParamStore* store,
             int batch, bool training, uint64_t seed);

  bool training() const { return training_; }
  int batch() const { return batch_; }
  const Graph& graph() const { return graph_; }
  const GraphInfo& info() const { return info_; }
  const FusionPlan& plan() const { return plan_; }
  int node_index() const { return node_; }
  const Node& node() const { return graph_.nodes[node_]; }
  const NodeInfo& node_info() const { return info_.nodes[node_]; }
  std::mt19937_64& rng() { return rng_; }

  // The logical dims of a value with this shape at this batch: {N, C, H, W} or {N, F}.
  dnnl::memory::dims Dims(const ValueShape& shape) const;
  dnnl::memory::dims OutDims() const { return Dims(node_info().shape); }
  dnnl::memory::dims InDims(int k) const;

  int num_inputs() const { return static_cast<int>(node_info().inputs.size()); }
  Value& In(int k);
  Value& Out();

  dnnl::memory Alloc(const MemDesc& md);  // zero-filled
  void SetOutput(const MemDesc& md) { Out().md = md, Out().mem = Alloc(md); }

  // Input k in layout `want`: the value itself, or a copy made by a reorder
  // appended to the forward list.
  dnnl::memory InputAs(int k, const MemDesc& want);
  // Input k as a plain 2-D (N, C*H*W) matrix (implicit flatten).
  dnnl::memory InputFlat(int k);
  // `m` in layout `want`: itself, or a copy made by a reorder appended to the
  // backward list.
  dnnl::memory BackwardAs(const dnnl::memory& m, const MemDesc& want);

  void Forward(const dnnl::primitive& p, Args args);
  // A step of our own code; `kernel` names it when it is a compute kernel
  // (profiles count its time as kernel time, not as overhead).
  void ForwardFn(std::function<void()> fn, const char* kernel = nullptr);
  // The same for a kernel whose work is all one ParallelRun (parallel.h): a
  // net of such steps runs its forward pass on one OpenMP team.
  void TeamForwardFn(std::function<void()> fn, const char* kernel);
  void Backward(const dnnl::primitive& p, Args args);
  // A step run with the load steps, after the parameter memories made so
  // far are filled: e.g. weights transformed for a kernel of ours.
  void LoadFn(std::function<void()> fn);
  void BackwardFn(std::function<void()> fn, const char* kernel = nullptr);

  // The gradient of the node's output, in Out().md.
  const dnnl::memory& OutDiff() { return Out().diff; }
  bool InputNeedsGrad(int k) { return In(k).needs_grad; }
  // A gradient contribution for input k, in any layout.
  void AddInputGrad(int k, const dnnl::memory& diff);

  // The node's parameter `part` ("weight", "bias", ...) in layout `md`:
  // reloaded from the store before a forward pass when the store changed.
  dnnl::memory ParamMemory(const char* part, const MemDesc& md);
  // A parameter derived from the store by `fill` (into a canonical buffer of
  // `dims`), e.g. weights with batch norm folded in, in layout `md`.
  dnnl::memory DerivedParamMemory(const std::vector<int64_t>& dims, const MemDesc& md,
                                  std::function<void(float*)> fill);
  // Where backward writes the gradient of `part`, in layout `md`; it reaches
  // the canonical gradient at the end of backward.
  dnnl::memory GradMemory(const char* part, const MemDesc& md);
  ParamTensor* Param(const char* part);
  // The bytes of parameter memory `m` (from ParamMemory or DerivedParamMemory)
  // read through another descriptor of the same size, e.g. with its axes
  // permuted; it follows `m` when a reload re-points it.
  dnnl::memory ParamView(const dnnl::memory& m, const MemDesc& md);
  // Tells every net sharing the store that values changed (running statistics).
  void TouchParams() { store_->Touch(); }
  ParamStore* store() { return store_; }

  // Net-level access (not for layers).
  void SetNode(int node) { node_ = node; }
  // The thread count given to the forward steps appended from now on.
  void SetStepThreads(int threads) { step_threads_ = threads; }
  std::vector<Value>& values() { return values_; }
  Value& input_value() { return input_; }
  NetLists& lists() { return lists_; }
  std::map<std::string, ParamTensor>& grads() { return grads_; }
  // Sums node v's gradient parts into its diff (in its md).
  void FinalizeDiff(Value& v, int node);

 private:
  void Reorder(std::vector<Step>* list, const dnnl::memory& from, const dnnl::memory& to);

  const Graph& graph_;
  const GraphInfo& info_;
  const FusionPlan& plan_;
  ParamStore* store_;
  const int batch_;
  const bool training_;
  int step_threads_ = 0;
  std::mt19937_64 rng_;
  int node_ = -1;
  Value input_;
  std::vector<Value> values_;
  NetLists lists_;
  std::map<std::string, ParamTensor> grads_;
};

class Layer {
 public:
  virtual ~Layer() = default;
  // Decides the output layout and appends forward (and load) steps. Called
  // in topological order.
  virtual absl::Status BuildForward(NetBuilder& b) = 0;
  // Appends backward steps: reads b.OutDiff(), adds input gradients and
  // writes parameter gradients. Called in reverse topological order.
  virtual absl::Status BuildBackward(NetBuilder& b) = 0;
};

std::unique_ptr<Layer> MakeLayer(OpKind op);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_LAYER_H_
