#include "runtime/exec/net.h"

#include <omp.h>

#include <chrono>
#include <cstring>
#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/exec/conv_choice.h"
#include "runtime/exec/kernels/bn_act.h"
#include "runtime/exec/kernels/parallel.h"

namespace edgenas {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

const char* StepKindName(const dnnl::primitive& p) {
  using K = dnnl::primitive::kind;
  switch (p.get_kind()) {
    case K::reorder:
      return "reorder";
    case K::concat:
      return "concat";
    case K::sum:
      return "sum";
    case K::convolution:
      return "convolution";
    case K::eltwise:
      return "eltwise";
    case K::softmax:
      return "softmax";
    case K::pooling:
    case K::pooling_v2:
      return "pooling";
    case K::batch_normalization:
      return "batch_norm";
    case K::inner_product:
      return "inner_product";
    case K::matmul:
      return "matmul";
    case K::shuffle:
      return "shuffle";
    case K::binary:
      return "binary";
    case K::reduction:
      return "reduction";
    default:
      return "primitive";
  }
}

// OpenMP's thread count for the calling thread, set for a scope.
class ScopedThreads {
 public:
  explicit ScopedThreads(int threads) : before_(omp_get_max_threads()) {
    if (threads > 0 && threads != before_) omp_set_num_threads(threads), set_ = true;
  }
  ~ScopedThreads() {
    if (set_) omp_set_num_threads(before_);
  }

 private:
  const int before_;
  bool set_ = false;
};

// Inference: a kernel with little work runs on one thread. Starting the
// OpenMP team costs about 0.4 us a kernel on this 2-core machine (a 3x3
// depthwise conv over 64 x 7 x 7 at batch 1: 1.25 us on two threads, 0.86 on
// one); a second core saves half the compute, so it pays from about
// 2 x 0.4 us x 130 G multiply-adds/s (one core's peak) = 104 K multiply-adds
// (convs, dense), or 16 K output values for kernels that move data (pools,
// adds...). oneDNN sizes most kernels' thread split when they are created,
// so the net creates them on one thread too, and runs them on one.
bool RunsOnOneThread(const Graph& graph, const GraphInfo& info, int v, int batch) {
  const OpKind op = graph.nodes[v].op;
  if (op == OpKind::kConv || op == OpKind::kDense) return info.nodes[v].flops * batch < 110000;
  return info.nodes[v].shape.elements() * batch < 16384;
}

void Exec(Step& s, dnnl::stream& stream) {
  if (s.fn) {
    s.fn();
  } else {
    s.prim.execute(stream, s.args);
  }
}

bool SingleConsumer(const GraphInfo& info, int v, int* consumer) {
  const std::vector<int>& c = info.nodes[v].consumers;
  if (c.size() != 1 || v == info.output) return false;
  *consumer = c[0];
  return info.nodes[c[0]].inputs.size() == 1;
}

// Training: the max pool after batch norm `bn` (and an activation our
// kernel applies between them, returned in *act, or -1), when the pool's
// windows tile the image: the three run as one kernel (BnActPoolForward),
// which never writes the normalized or activated tensor.
int TilingMaxPoolAfter(const Graph& graph, const GraphInfo& info, int bn, int* act) {
  *act = -1;
  int next = -1;
  if (info.nodes[bn].shape.flat || !SingleConsumer(info, bn, &next)) return -1;
  BnAct kind;
  if (BnActPoolSupports(graph.nodes[next].op, &kind)) {
    *act = next;
    if (!SingleConsumer(info, *act, &next)) return -1;
  }
  const PoolAttrs& p = graph.nodes[next].pool;
  if (graph.nodes[next].op != OpKind::kMaxPool || p.kernel_h != p.stride_h ||
      p.kernel_w != p.stride_w || p.pad_h != 0 || p.pad_w != 0 || p.kernel_h * p.kernel_w > 256)
    return -1;
  return next;
}

// Inference: the max pool after conv v (its chain so far ending at `cur`)
// when the conv's kernel runs it inside (ChooseConvKernel), or -1.
int ConvPool(const Graph& graph, const GraphInfo& info, const FusionPlan& plan, int v, int cur,
             int batch) {
  int next = -1;
  if (graph.nodes[v].op != OpKind::kConv || !SingleConsumer(info, cur, &next) ||
      graph.nodes[next].op != OpKind::kMaxPool)
    return -1;
  ConvEpilogue after;
  after.fused = plan.fused[v];
  after.fused.push_back(next);
  const ConvChoice c = ChooseConvKernel(graph, info, v, NetMode::kInference, batch, after);
  return RunsFusedPool(c.kernel) ? next : -1;
}

// The add `add` of a conv's result (the chain ending at `cur`) and another
// value `r`, done by the conv as a sum post-op into r's own buffer: allowed
// when r is a buffer of its own (not the image, not a view made by flatten
// or inference dropout), r is computed before the conv `v` runs (a graph
// listed out of order may put r's producer after v), everything else that
// reads that buffer has run before v writes into it, and no other conv has
// taken the add already.
int ResidualForSum(const Graph& graph, const GraphInfo& info, const FusionPlan& plan,
                   const std::vector<int>& position, int v, int cur, int add) {
  const std::vector<int>& ins = info.nodes[add].inputs;
  if (ins.size() != 2 || add == info.output) return -1;
  const int r = ins[0] == cur ? ins[1] : ins[0];
  if (r == kGraphInput || r == cur || (ins[0] != cur && ins[1] != cur)) return -1;
  auto root = [&](int u) {
    while (plan.alias[u] >= 0) u = plan.alias[u];
    return u;
  };
  if (plan.alias[add] >= 0) return -1;
  const int owner = root(r);
  const OpKind op = graph.nodes[owner].op;
  if (op == OpKind::kFlatten || op == OpKind::kDropout || owner == info.output) return -1;
  if (position[owner] >= position[v]) return -1;
  for (int u : info.order) {  // the owner and what aliases it (order: fused ones may come late)
    if (root(u) != owner) continue;
    for (int c : info.nodes[u].consumers)
      if (c != add && root(c) != owner && position[c] >= position[v]) return -1;
  }
  return r;
}

}  // namespace

FusionPlan PlanFusion(const Graph& graph, const GraphInfo& info, NetMode mode, int batch) {
  const int n = static_cast<int>(graph.nodes.size());
  FusionPlan plan;
  plan.alias.assign(n, -1);
  plan.folded_bn.assign(n, -1);
  plan.fused.assign(n, {});
  plan.sum_residual.assign(n, -1);
  std::vector<int> position(n, 0);
  for (size_t i = 0; i < info.order.size(); ++i) position[info.order[i]] = static_cast<int>(i);
  for (int v : info.order) {
    const OpKind op = graph.nodes[v].op;
    int next = -1, pool = -1, pool_act = -1;
    BnAct act;
    if (mode == NetMode::kInference && op == OpKind::kDropout &&
        info.nodes[v].inputs[0] != kGraphInput) {
      plan.alias[v] = info.nodes[v].inputs[0];
    } else if (mode == NetMode::kTrain && op == OpKind::kBatchNorm && plan.alias[v] < 0 &&
               (pool = TilingMaxPoolAfter(graph, info, v, &pool_act)) >= 0) {
      for (int u : {pool_act, pool}) {
        if (u < 0) continue;
        plan.fused[v].push_back(u);
        plan.alias[u] = v;
      }
    } else if (op == OpKind::kBatchNorm && plan.alias[v] < 0 && SingleConsumer(info, v, &next) &&
               graph.nodes[next].op == OpKind::kRelu) {
      // oneDNN's batch norm applies a ReLU itself (fuse_norm_relu), in
      // training too, where it keeps a mask for the backward pass.
      plan.fused[v].push_back(next);
      plan.alias[next] = v;
    } else if (mode == NetMode::kTrain && op == OpKind::kBatchNorm && plan.alias[v] < 0 &&
               !info.nodes[v].shape.flat && SingleConsumer(info, v, &next) &&
               BnActSupports(graph.nodes[next].op, &act)) {
      // ReLU6, hard-swish, hard-sigmoid: in our batch-norm kernel (bn_act.h).
      plan.fused[v].push_back(next);
      plan.alias[next] = v;
    } else if (mode == NetMode::kInference && (op == OpKind::kConv || op == OpKind::kDense)) {
      int cur = v;
      if (SingleConsumer(info, cur, &next) && graph.nodes[next].op == OpKind::kBatchNorm) {
        plan.folded_bn[v] = next;
        plan.alias[next] = v;
        cur = next;
      }
      if (SingleConsumer(info, cur, &next) && IsActivation(graph.nodes[next].op)) {
        plan.fused[v].push_back(next);
        plan.alias[next] = v;
        cur = next;
      }
      // A max pool after a conv whose kernel runs it inside (at batch 1 our
      // Winograd or small-conv kernel, when it applies the activation
      // between).
      if ((pool = ConvPool(graph, info, plan, v, cur, batch)) >= 0) {
        plan.fused[v].push_back(pool);
        plan.alias[pool] = v;
        continue;
      }
      // A residual add after a conv (MBConv, ShuffleNet): a sum post-op,
      // then the activation after the add, if any.
      const std::vector<int>& after = info.nodes[cur].consumers;
      if (op == OpKind::kConv && cur != info.output && after.size() == 1 &&
          graph.nodes[after[0]].op == OpKind::kAdd) {
        const int add = after[0];
        const int r = ResidualForSum(graph, info, plan, position, v, cur, add);
        if (r >= 0) {
          plan.sum_residual[v] = r;
          plan.fused[v].push_back(add);
          plan.alias[add] = v;
          if (SingleConsumer(info, add, &next) && IsActivation(graph.nodes[next].op)) {
            plan.fused[v].push_back(next);
            plan.alias[next] = v;
          }
        }
      }
    }
  }
  return plan;
}

CompiledNet::CompiledNet(Graph graph, GraphInfo info, ParamStore* params, const NetOptions& options)
    : graph_(std::move(graph)), info_(std::move(info)), params_(params), options_(options) {}

CompiledNet::~CompiledNet() = default;

absl::StatusOr<std::unique_ptr<CompiledNet>> CompiledNet::Create(const Graph& graph,
                                                                 ParamStore* params,
                                                                 const NetOptions& options) {
  if (options.batch < 1 || options.batch > (1 << 16))
    return absl::InvalidArgumentError(
        absl::StrCat("batch: ", options.batch, " is outside [1, 65536]"));
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  if (!info.ok()) return info.status();
  for (int v = 0; v < static_cast<int>(graph.nodes.size()); ++v) {
    for (const ParamSpec& spec : ParamSpecs(graph, *info, v)) {
      const ParamTensor* t = params->Find(spec.key);
      if (t == nullptr)
        return absl::FailedPreconditionError(absl::StrCat("parameter '", spec.key, "': missing"));
      if (t->dims != spec.dims)
        return absl::FailedPreconditionError(
            absl::StrCat("parameter '", spec.key, "': has dims [", absl::StrJoin(t->dims, ","),
                         "], the graph needs [", absl::StrJoin(spec.dims, ","), "]"));
    }
  }
  std::unique_ptr<CompiledNet> net(new CompiledNet(graph, *std::move(info), params, options));
  try {
    if (absl::Status s = net->Build(); !s.ok()) return s;
  } catch (const dnnl::error& e) {
    return DnnlStatus(e, "building the net");
  }
  return net;
}

absl::Status CompiledNet::Build() {
  const bool training = options_.mode == NetMode::kTrain;
  plan_ = PlanFusion(graph_, info_, options_.mode, options_.batch);
  stream_ = std::make_unique<dnnl::stream>(CpuEngine());
  NetBuilder b(graph_, info_, plan_, params_, options_.batch, training, options_.seed);

  Value& in = b.input_value();
  in.md = PlainDesc(b.Dims(info_.input_shape));
  in.mem = b.Alloc(in.md);
  for (Value& v : b.values()) v.needs_grad = training;

  layers_.resize(graph_.nodes.size());
  for (int v : info_.order) {
    b.SetNode(v);
    if (plan_.alias[v] >= 0) {
      b.values()[v] = b.values()[plan_.alias[v]];
      continue;
    }
    layers_[v] = MakeLayer(graph_.nodes[v].op);
    const int threads = !training && RunsOnOneThread(graph_, info_, v, options_.batch) ? 1 : 0;
    b.SetStepThreads(threads);
    absl::Status s;
    try {
      ScopedThreads scope(threads);
      s = layers_[v]->BuildForward(b);
    } catch (const dnnl::error& e) {
      s = DnnlStatus(e, "forward");
    }
    b.SetStepThreads(0);
    if (!s.ok())
      return absl::Status(s.code(),
                          absl::StrCat("node '", graph_.nodes[v].name, "': ", s.message()));
  }

  // The logits: the output, or in training the input of a trailing softmax.
  int logits_node = info_.output;
  const bool skip_softmax = training && graph_.nodes[logits_node].op == OpKind::kSoftmax &&
                            info_.nodes[logits_node].inputs[0] != kGraphInput;
  if (skip_softmax) logits_node = info_.nodes[logits_node].inputs[0];
  b.SetNode(logits_node);
  Value& lv = b.values()[logits_node];
  const MemDesc plain = PlainDesc(lv.md.dims());
  if (lv.md == plain) {
    logits_ = lv.mem;
  } else {
    logits_ = b.Alloc(plain);
    Step s;
    s.prim = dnnl::reorder(lv.mem, logits_);
    s.args = {{DNNL_ARG_FROM, lv.mem}, {DNNL_ARG_TO, logits_}};
    b.lists().forward.push_back(std::move(s));
  }

  if (training) {
    dlogits_ = b.Alloc(plain);
    lv.diff_parts.push_back(dlogits_);
    for (auto it = info_.order.rbegin(); it != info_.order.rend(); ++it) {
      const int v = *it;
      if (skip_softmax && v == info_.output) continue;
      b.SetNode(v);
      if (plan_.alias[v] >= 0) {  // fused into the node it aliases: its gradient goes there
        // (none from the middle of a fused chain: the last node's goes straight there)
        if (!b.values()[v].diff_parts.empty()) {
          b.FinalizeDiff(b.values()[v], v);
          b.values()[plan_.alias[v]].diff_parts.push_back(b.values()[v].diff);
        }
        continue;
      }
      b.FinalizeDiff(b.values()[v], v);
      absl::Status s;
      try {
        s = layers_[v]->BuildBackward(b);
      } catch (const dnnl::error& e) {
        s = DnnlStatus(e, "backward");
      }
      if (!s.ok())
        return absl::Status(s.code(),
                            absl::StrCat("node '", graph_.nodes[v].name, "': ", s.message()));
    }
  }
  lists_ = std::move(b.lists());
  // One team for the forward pass when every step can share it (inference).
  one_team_ = !training;
  for (const Step& s : lists_.forward)
    one_team_ = one_team_ && ((s.fn && s.team) || s.threads == 1);
  grads_ = std::move(b.grads());
  values_ = std::move(b.values());
  input_ = b.input_value();
  return absl::OkStatus();
}

namespace {

// Runs the forward list on one OpenMP team of `threads`: a step whose work
// is one ParallelRun on every thread (each its share, even when the step was
// set to one thread: that saves a team's start, which a barrier here does
// not cost), any other step (set to one thread) on thread 0 alone, and a
// barrier between steps (our SpinBarrier). Starting a team costs about
// 0.45 us on this machine, libgomp's barrier 0.2 us, ours 0.06 us; a batch-1
// net of our own kernels starts one team instead of one per kernel.
void RunOnOneTeam(std::vector<Step>& list, dnnl::stream& stream, int threads) {
  std::exception_ptr error;
  SpinBarrier barrier;
#pragma omp parallel num_threads(threads)
  {
    const bool first = omp_get_thread_num() == 0;
    barrier.SetParties(omp_get_num_threads());
    for (Step& s : list) {
      if (s.team || first) {
        try {
          TeamScope team(s.team, &barrier);
          ScopedThreads one(s.team ? 0 : s.threads);
          Exec(s, stream);
        } catch (...) {
#pragma omp critical(edgenas_team_error)
          if (!error) error = std::current_exception();
        }
      }
      // The region's end waits for the last step.
      if (&s != &list.back()) barrier.Wait();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace

void CompiledNet::Run(std::vector<Step>& list, const char* phase, bool forward) {
  const int threads = omp_get_max_threads();
  if (!options_.profile && forward && one_team_ && threads > 1) {
    RunOnOneTeam(list, *stream_, threads);
    return;
  }
  if (!options_.profile) {
    for (Step& s : list) {
      if (s.threads > 0) {
        ScopedThreads threads(s.threads);
        Exec(s, *stream_);
      } else {
        Exec(s, *stream_);
      }
    }
    return;
  }
  for (Step& s : list) {
    auto t0 = Clock::now();
    {
      ScopedThreads threads(s.threads);
      Exec(s, *stream_);
    }
    const double ms = MsSince(t0);
    if (s.fn) {
      (s.kernel != nullptr ? profile_.kernel_ms : profile_.function_ms) += ms;
    } else {
      profile_.primitive_ms += ms;
    }
    profile_.by_step[absl::StrCat(
        phase, " ", s.node >= 0 ? graph_.nodes[s.node].name : "net", " ",
        s.fn ? (s.kernel != nullptr ? s.kernel : "function") : StepKindName(s.prim))] += ms;
    if (forward && s.node >= 0) {
      if (profile_.forward_node_ms.empty())
        profile_.forward_node_ms.assign(graph_.nodes.size(), 0.0);
      profile_.forward_node_ms[s.node] += ms;
    }
  }
}

void CompiledNet::Forward(const float* input) {
  auto t0 = Clock::now();
  std::memcpy(input_.mem.get_data_handle(), input,
              sizeof(float) * static_cast<size_t>(options_.batch) * info_.input_shape.elements());
  if (params_->version() != loaded_version_) {
    loaded_version_ = params_->version();
    Run(lists_.load, "load");
  }
  Run(lists_.forward, "forward", /*forward=*/true);
  stream_->wait();
  if (options_.profile) {
    profile_.total_ms += MsSince(t0);
    ++profile_.passes;
  }
}

const float* CompiledNet::Logits() const {
  return static_cast<const float*>(logits_.get_data_handle());
}

void CompiledNet::Backward(const float* dlogits) {
  auto t0 = Clock::now();
  std::memcpy(dlogits_.get_data_handle(), dlogits, dlogits_.get_desc().get_size());
  Run(lists_.backward, "backward");
  Run(lists_.grad_out, "grad_out");
  stream_->wait();
  if (options_.profile) profile_.total_ms += MsSince(t0);
}

int64_t CompiledNet::num_primitives() const {
  int64_t n = 0;
  for (const auto* list : {&lists_.forward, &lists_.backward})
    for (const Step& s : *list) n += s.fn ? 0 : 1;
  return n;
}

}  // namespace edgenas
