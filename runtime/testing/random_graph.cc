#include "runtime/testing/random_graph.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/blocks.h"

namespace edgenas {
namespace {

constexpr OpKind kActivations[] = {OpKind::kRelu,     OpKind::kRelu6,       OpKind::kElu,
                                   OpKind::kSigmoid,  OpKind::kHardSigmoid, OpKind::kTanh,
                                   OpKind::kHardSwish};
constexpr OpKind kGates[] = {OpKind::kSigmoid, OpKind::kHardSigmoid, OpKind::kTanh};
constexpr int kKernels[] = {1, 3, 5};

// Nodes kept back for the head: global pool and flatten, the classifier, softmax.
constexpr int kHeadNodes = 4;

// Builds one graph. The body grows a chain of steps from the graph input;
// each step reads the current value, may branch and always merges back, so
// every node it makes feeds the step's output and hence the graph output.
// A step that does not apply to the current shape, or overruns the node
// budget, is undone and another is drawn.
class Generator {
 public:
  Generator(std::mt19937_64& rng, const RandomGraphOptions& options, RandomGraphStats* stats)
      : rng_(rng), options_(options), stats_(stats), builder_(&graph_) {
    graph_.input = options.input;
    graph_.num_classes = options.num_classes;
    max_channels_ = std::max(1, options.max_channels);
    info_.input_shape =
        ValueShape{options.input.channels, options.input.height, options.input.width, false};
  }

  Graph Run();

 private:
  // Appends the nodes of one step reading `x` and returns the step's output,
  // or "" when the step does not apply to x's shape.
  using Step = std::string (Generator::*)(const std::string& x);
  struct WeightedStep {
    Step step;
    int weight;
  };

  bool TryStep(Step step, int budget);
  Step Draw(const std::vector<WeightedStep>& steps);
  void ShuffleNodeList();

  // The raw output of the generator only: std distributions differ between
  // standard libraries, and a seed must mean the same graph everywhere.
  int Int(int lo, int hi) {
    if (hi <= lo) return lo;
    return lo + static_cast<int>(rng_() % static_cast<uint64_t>(hi - lo + 1));
  }
  double Real() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Real() < p; }
  template <typename T, size_t N>
  T Pick(const T (&items)[N]) {
    return items[Int(0, static_cast<int>(N) - 1)];
  }
  int PickFrom(const std::vector<int>& items) { return items[Int(0, int(items.size()) - 1)]; }

  std::string Name(const char* what) { return absl::StrCat("n", next_id_++, "_", what); }
  ValueShape ShapeOf(const std::string& value) const;
  int Channels() { return Int(1, max_channels_); }
  int StrideFor(int extent) { return extent >= 4 && Chance(0.3) ? 2 : 1; }
  int Pad(int extent, int span);
  int Groups(int cin, int cout);
  OpKind Activation() { return Pick(kActivations); }

  std::string Append(Node node);
  std::string ConvSame(const std::string& x, int cout, int kernel, int stride, int groups,
                       int dilation);
  std::string Dense(const std::string& x, int units);
  std::string Act(const std::string& x, OpKind act);
  std::string Merge(OpKind op, std::vector<std::string> inputs);

  // Body steps: x is a (C, H, W) value.
  std::string ConvStep(const std::string& x);
  std::string PoolStep(const std::string& x);
  std::string BatchNormStep(const std::string& x);
  std::string ActivationStep(const std::string& x);
  std::string DropoutStep(const std::string& x);
  std::string ShuffleStep(const std::string& x);
  std::string ResidualStep(const std::string& x);
  std::string SkipStep(const std::string& x);
  std::string GateStep(const std::string& x);
  std::string SqueezeExciteStep(const std::string& x);
  std::string BranchesStep(const std::string& x);
  std::string DepthwiseSeparableStep(const std::string& x);
  std::string MBConvStep(const std::string& x);
  std::string FireStep(const std::string& x);
  std::string ShuffleUnitStep(const std::string& x);

  // Head steps.
  std::string ReduceStep(const std::string& x);  // global pool and/or flatten
  std::string HiddenStep(const std::string& x);
  std::string FlatAddStep(const std::string& x);
  std::string FlatConcatStep(const std::string& x);
  std::string FlatGateStep(const std::string& x);
  std::string InnerSoftmaxStep(const std::string& x);

  std::mt19937_64& rng_;
  const RandomGraphOptions& options_;
  RandomGraphStats* stats_;
  Graph graph_;
  GraphBuilder builder_;
  GraphInfo info_;  // shapes of graph_ as of the last accepted step
  std::string current_ = kInputName;
  int max_channels_ = 1;
  int next_id_ = 0;
};

ValueShape Generator::ShapeOf(const std::string& value) const {
  if (value == kInputName) return info_.input_shape;
  return info_.nodes[graph_.Find(value)].shape;
}

bool Generator::TryStep(Step step, int budget) {
  const size_t saved = graph_.nodes.size();
  const std::string out = (this->*step)(current_);
  if (!out.empty() && static_cast<int>(graph_.nodes.size()) <= budget) {
    absl::StatusOr<GraphInfo> info = InferShapes(graph_);
    if (info.ok()) {
      info_ = *std::move(info);
      current_ = out;
      return true;
    }
    if (stats_ != nullptr) ++stats_->invalid_steps;
  }
  graph_.nodes.resize(saved);
  return false;
}

Generator::Step Generator::Draw(const std::vector<WeightedStep>& steps) {
  int total = 0;
  for (const WeightedStep& s : steps) total += s.weight;
  int r = Int(0, total - 1);
  for (const WeightedStep& s : steps) {
    if (r < s.weight) return s.step;
    r -= s.weight;
  }
  return steps.back().step;
}

// Lists the nodes out of topological order, which every consumer of a graph
// must accept; the output is then named explicitly.
void Generator::ShuffleNodeList() {
  graph_.output = graph_.OutputName();
  for (int i = static_cast<int>(graph_.nodes.size()) - 1; i > 0; --i)
    std::swap(graph_.nodes[i], graph_.nodes[Int(0, i)]);
}

Graph Generator::Run() {
  const std::vector<WeightedStep> body = {
      {&Generator::ConvStep, 6},        {&Generator::PoolStep, 2},
      {&Generator::BatchNormStep, 3},   {&Generator::ActivationStep, 4},
      {&Generator::DropoutStep, 1},     {&Generator::ShuffleStep, 1},
      {&Generator::ResidualStep, 3},    {&Generator::SkipStep, 2},
      {&Generator::GateStep, 1},        {&Generator::SqueezeExciteStep, 2},
      {&Generator::BranchesStep, 2},    {&Generator::DepthwiseSeparableStep, 1},
      {&Generator::MBConvStep, 2},      {&Generator::FireStep, 1},
      {&Generator::ShuffleUnitStep, 1},
  };
  const std::vector<WeightedStep> flat = {
      {&Generator::HiddenStep, 4},     {&Generator::BatchNormStep, 1},
      {&Generator::ActivationStep, 2}, {&Generator::DropoutStep, 2},
      {&Generator::FlatAddStep, 1},    {&Generator::FlatConcatStep, 1},
      {&Generator::FlatGateStep, 1},   {&Generator::InnerSoftmaxStep, 1},
  };
  const int max_nodes = std::max(1, options_.max_nodes);
  const int target = Int((max_nodes + 2) / 3, max_nodes);
  const int body_budget = target - kHeadNodes;
  for (int attempt = 0; attempt < 8 * max_nodes; ++attempt) {
    if (static_cast<int>(graph_.nodes.size()) >= body_budget) break;
    TryStep(Draw(body), body_budget);
  }
  // The classifier always fits: everything before it leaves one node free.
  TryStep(&Generator::ReduceStep, max_nodes - 1);
  for (int k = Int(0, 2); k > 0; --k) {
    for (int attempt = 0; attempt < 4; ++attempt)
      if (TryStep(Draw(flat), max_nodes - 1)) break;
  }
  const bool bias = Chance(0.8);
  std::string logits = builder_.Dense(Name("dense"), current_, options_.num_classes, bias);
  if (static_cast<int>(graph_.nodes.size()) < max_nodes && Chance(0.3))
    builder_.Op(Name("softmax"), OpKind::kSoftmax, {logits});
  if (Chance(0.15)) {
    ShuffleNodeList();
  } else if (Chance(0.3)) {
    graph_.output = graph_.nodes.back().name;
  }
  return std::move(graph_);
}

// Mostly "same"; sometimes less, so the value shrinks; rarely more, so it
// grows. Never so little that the window stops fitting.
int Generator::Pad(int extent, int span) {
  const int least = std::max(0, (span - extent + 1) / 2);
  const int same = (span - 1) / 2;
  int pad = Chance(0.7) ? same : Int(0, same);
  if (extent < 16 && Chance(0.05)) pad = Int(same, span - 1);
  return std::max(pad, least);
}

// 1 most of the time, else a random common divisor of both channel counts.
int Generator::Groups(int cin, int cout) {
  std::vector<int> common;
  for (int g = 2; g <= std::min(cin, cout); ++g)
    if (cin % g == 0 && cout % g == 0) common.push_back(g);
  if (common.empty() || Chance(0.6)) return 1;
  return PickFrom(common);
}

std::string Generator::Append(Node node) {
  graph_.nodes.push_back(std::move(node));
  return graph_.nodes.back().name;
}

std::string Generator::ConvSame(const std::string& x, int cout, int kernel, int stride, int groups,
                                int dilation) {
  const bool bias = Chance(0.5);
  return builder_.Conv(Name("conv"), x, cout, kernel, stride, -1, groups, bias, dilation);
}

std::string Generator::Dense(const std::string& x, int units) {
  const bool bias = Chance(0.7);
  return builder_.Dense(Name("dense"), x, units, bias);
}

std::string Generator::Act(const std::string& x, OpKind act) {
  std::string name = builder_.Act(Name(OpName(act)), x, act);
  if (act == OpKind::kElu) graph_.nodes.back().alpha = static_cast<float>(0.25 * Int(1, 8));
  return name;
}

std::string Generator::Merge(OpKind op, std::vector<std::string> inputs) {
  for (int i = static_cast<int>(inputs.size()) - 1; i > 0; --i)
    std::swap(inputs[i], inputs[Int(0, i)]);
  return builder_.Op(Name(OpName(op)), op, std::move(inputs));
}

std::string Generator::ConvStep(const std::string& x) {
  const ValueShape s = ShapeOf(x);
  Node n;
  n.name = Name("conv");
  n.op = OpKind::kConv;
  n.inputs = {x};
  ConvAttrs& a = n.conv;
  a.kernel_h = Pick(kKernels);
  a.kernel_w = Chance(0.2) ? Pick(kKernels) : a.kernel_h;
  const bool dilate = Chance(0.2);
  const bool same_dilation = Chance(0.9);
  a.dilation_h = a.kernel_h > 1 && dilate ? 2 : 1;
  a.dilation_w = a.kernel_w > 1 && dilate == same_dilation ? 2 : 1;
  a.stride_h = StrideFor(s.height);
  a.stride_w = Chance(0.85) ? (s.width >= 4 ? a.stride_h : 1) : StrideFor(s.width);
  a.pad_h = Pad(s.height, a.dilation_h * (a.kernel_h - 1) + 1);
  a.pad_w = Pad(s.width, a.dilation_w * (a.kernel_w - 1) + 1);
  a.bias = Chance(0.5);
  const int cin = s.channels;
  std::vector<int> divisors;
  for (int g = 2; g < cin; ++g)
    if (cin % g == 0) divisors.push_back(g);
  const int mode = Int(0, 4);
  if (mode == 0) {  // depthwise, sometimes with a channel multiplier
    a.groups = cin;
    a.out_channels = cin * (2 * cin <= max_channels_ && Chance(0.3) ? 2 : 1);
  } else if (mode == 1 && !divisors.empty()) {
    a.groups = PickFrom(divisors);
    a.out_channels = a.groups * Int(1, std::max(1, max_channels_ / a.groups));
  } else {
    a.groups = 1;
    a.out_channels = Channels();
  }
  return Append(std::move(n));
}

std::string Generator::PoolStep(const std::string& x) {
  const ValueShape s = ShapeOf(x);
  Node n;
  n.name = Name("pool");
  n.op = Chance(0.5) ? OpKind::kMaxPool : OpKind::kAvgPool;
  n.inputs = {x};
  auto dim = [&](int extent, int* kernel, int* stride, int* pad) {
    *kernel = std::min(Int(2, 3), extent);
    *pad = Int(0, (*kernel - 1) / 2);
    *stride = extent >= 4 ? Int(1, 2) : 1;
  };
  PoolAttrs& a = n.pool;
  dim(s.height, &a.kernel_h, &a.stride_h, &a.pad_h);
  if (s.width == s.height && Chance(0.8)) {
    a.kernel_w = a.kernel_h;
    a.stride_w = a.stride_h;
    a.pad_w = a.pad_h;
  } else {
    dim(s.width, &a.kernel_w, &a.stride_w, &a.pad_w);
  }
  return Append(std::move(n));
}

std::string Generator::BatchNormStep(const std::string& x) {
  std::string name = builder_.BatchNorm(Name("bn"), x);
  Node& n = graph_.nodes.back();
  if (Chance(0.3)) n.bn_epsilon = 1e-3f;
  if (Chance(0.3)) n.bn_momentum = 0.01f * Int(1, 50);
  return name;
}

std::string Generator::ActivationStep(const std::string& x) { return Act(x, Activation()); }

std::string Generator::DropoutStep(const std::string& x) {
  std::string name = builder_.Op(Name("dropout"), OpKind::kDropout, {x});
  graph_.nodes.back().rate = 0.1f * Int(0, 6);
  return name;
}

std::string Generator::ShuffleStep(const std::string& x) {
  const int c = ShapeOf(x).channels;
  std::vector<int> groups;  // a shuffle of 1 or c groups is the identity
  for (int g = 2; g < c; ++g)
    if (c % g == 0) groups.push_back(g);
  if (groups.empty()) return "";
  std::string name = builder_.Op(Name("shuffle"), OpKind::kChannelShuffle, {x});
  graph_.nodes.back().shuffle_groups = PickFrom(groups);
  return name;
}

// x + f(x), f a short chain that keeps the shape; sometimes a third term.
std::string Generator::ResidualStep(const std::string& x) {
  const int c = ShapeOf(x).channels;
  std::vector<std::string> terms = {x};
  for (int branch = Chance(0.3) ? 2 : 1; branch > 0; --branch) {
    std::string y = x;
    for (int k = Int(1, 3); k > 0; --k) {
      switch (Int(0, 2)) {
        case 0: {
          const int kernel = Pick(kKernels);
          const int groups = Groups(c, c);
          const int dilation = Chance(0.2) ? 2 : 1;
          y = ConvSame(y, c, kernel, 1, groups, dilation);
          break;
        }
        case 1:
          y = BatchNormStep(y);
          break;
        default:
          y = ActivationStep(y);
      }
    }
    terms.push_back(y);
  }
  return Merge(OpKind::kAdd, std::move(terms));
}

// A long skip: merges x with an earlier value of the same height and width.
std::string Generator::SkipStep(const std::string& x) {
  const ValueShape s = ShapeOf(x);
  std::vector<std::string> partners;
  auto consider = [&](const std::string& name, const ValueShape& t) {
    if (name != x && !t.flat && t.height == s.height && t.width == s.width &&
        (t == s || t.channels + s.channels <= max_channels_))
      partners.push_back(name);
  };
  consider(kInputName, info_.input_shape);
  for (size_t i = 0; i < graph_.nodes.size(); ++i)
    consider(graph_.nodes[i].name, info_.nodes[i].shape);
  if (partners.empty()) return "";
  const std::string& e = partners[Int(0, static_cast<int>(partners.size()) - 1)];
  const bool can_concat = ShapeOf(e).channels + s.channels <= max_channels_;
  const bool add = ShapeOf(e) == s && (!can_concat || Chance(0.5));
  return Merge(add ? OpKind::kAdd : OpKind::kConcat, {x, e});
}

// x * gate(conv(x)): an elementwise multiply of equal shapes.
std::string Generator::GateStep(const std::string& x) {
  const int c = ShapeOf(x).channels;
  const int kernel = Chance(0.5) ? 1 : 3;
  const int groups = Groups(c, c);
  std::string g = ConvSame(x, c, kernel, 1, groups, 1);
  g = Act(g, Pick(kGates));
  return builder_.Op(Name("multiply"), OpKind::kMultiply, {x, g});
}

// Squeeze-and-excite, by the block or as a parameter-free gate on the
// pooled value: both multiply by a (C, 1, 1) value broadcast over H and W.
std::string Generator::SqueezeExciteStep(const std::string& x) {
  const int c = ShapeOf(x).channels;
  const OpKind gate = Pick(kGates);
  if (Chance(0.5)) return builder_.SqueezeExcite(Name("se"), x, c, std::max(1, c / 4), gate);
  std::string g = builder_.Op(Name("gap"), OpKind::kGlobalAvgPool, {x});
  g = Act(g, gate);
  return builder_.Op(Name("multiply"), OpKind::kMultiply, {x, g});
}

// Inception-like: two or three branches of one stride, concatenated.
std::string Generator::BranchesStep(const std::string& x) {
  const ValueShape s = ShapeOf(x);
  const int n = Int(2, 3);
  if (max_channels_ < n) return "";
  const int stride = StrideFor(std::min(s.height, s.width));
  int left = max_channels_;
  std::vector<std::string> branches;
  for (int i = 0; i < n; ++i) {
    const int reserve = n - 1 - i;  // a channel for each branch still to come
    const int r = Int(0, 3);
    if (r == 0 && stride == 1 && s.channels <= left - reserve) {
      branches.push_back(x);
      left -= s.channels;
    } else if (r == 1 && s.channels <= left - reserve) {
      const OpKind op = Chance(0.5) ? OpKind::kMaxPool : OpKind::kAvgPool;
      branches.push_back(builder_.Pool(Name("pool"), x, op, 3, stride, 1));
      left -= s.channels;
    } else {
      const int c = Int(1, std::max(1, std::min(left - reserve, max_channels_ / 2)));
      const int kernel = Pick(kKernels);
      const int groups = Groups(s.channels, c);
      branches.push_back(ConvSame(x, c, kernel, stride, groups, 1));
      left -= c;
    }
  }
  return Merge(OpKind::kConcat, std::move(branches));
}

std::string Generator::DepthwiseSeparableStep(const std::string& x) {
  const ValueShape s = ShapeOf(x);
  const int cout = Channels();
  const int kernel = Chance(0.5) ? 3 : 5;
  const int stride = StrideFor(std::min(s.height, s.width));
  const OpKind act = Activation();
  return builder_.DepthwiseSeparable(Name("dw_separable"), x, s.channels, cout, kernel, stride,
                                     act);
}

std::string Generator::MBConvStep(const std::string& x) {
  const ValueShape s = ShapeOf(x);
  const int cin = s.channels;
  const int expand = Int(1, std::max(1, std::min(6, max_channels_ / cin)));
  const bool residual = Chance(0.5);
  const int cout = residual ? cin : Channels();
  const int stride = residual ? 1 : StrideFor(std::min(s.height, s.width));
  const int kernel = Chance(0.5) ? 3 : 5;
  const double se_ratio = Chance(0.4) ? 0.25 : 0.0;
  const OpKind act = Activation();
  return builder_.MBConv(Name("mbconv"), x, cin, cout, expand, kernel, stride, se_ratio, act);
}

std::string Generator::FireStep(const std::string& x) {
  if (max_channels_ < 2) return "";
  const int squeeze = Int(1, std::max(1, max_channels_ / 4));
  const int e1 = Int(1, max_channels_ - 1);
  const int e3 = Int(1, max_channels_ - e1);
  return builder_.Fire(Name("fire"), x, squeeze, e1, e3);
}

// The unit's grouped convs need groups to divide the input channels and
// (at stride 2) the channels its branch adds.
std::string Generator::ShuffleUnitStep(const std::string& x) {
  const ValueShape s = ShapeOf(x);
  const int cin = s.channels;
  std::vector<int> groups;
  for (int g = 2; g <= cin; ++g)
    if (cin % g == 0) groups.push_back(g);
  const int g = groups.empty() ? 1 : PickFrom(groups);
  int stride = StrideFor(std::min(s.height, s.width));
  if (max_channels_ - cin < g) stride = 1;
  const int cout = stride == 1 ? cin : cin + g * Int(1, (max_channels_ - cin) / g);
  return builder_.ShuffleUnit(Name("shuffle_unit"), x, cin, cout, g, stride);
}

std::string Generator::ReduceStep(const std::string& x) {
  const ValueShape s = ShapeOf(x);
  if (s.flat) return "";
  if (s.elements() <= 1024 && Chance(0.35))
    return builder_.Op(Name("flatten"), OpKind::kFlatten, {x});
  std::string pooled = builder_.Op(Name("gap"), OpKind::kGlobalAvgPool, {x});
  if (Chance(0.3)) return builder_.Op(Name("flatten"), OpKind::kFlatten, {pooled});
  return pooled;
}

std::string Generator::HiddenStep(const std::string& x) {
  std::string h = Dense(x, Int(4, 32));
  return Chance(0.7) ? Act(h, Activation()) : h;
}

std::string Generator::FlatAddStep(const std::string& x) {
  const ValueShape s = ShapeOf(x);
  if (!s.flat || s.channels > 64) return "";
  if (Chance(0.5)) return Merge(OpKind::kAdd, {x, Dense(x, s.channels)});
  const int units = Int(4, 32);
  return Merge(OpKind::kAdd, {Dense(x, units), Dense(x, units)});
}

std::string Generator::FlatConcatStep(const std::string& x) {
  const ValueShape s = ShapeOf(x);
  if (!s.flat) return "";
  if (s.channels <= 64 && Chance(0.5)) return Merge(OpKind::kConcat, {x, Dense(x, Int(1, 16))});
  return Merge(OpKind::kConcat, {Dense(x, Int(1, 16)), Dense(x, Int(1, 16))});
}

std::string Generator::FlatGateStep(const std::string& x) {
  const ValueShape s = ShapeOf(x);
  if (!s.flat || s.channels > 64) return "";
  std::string g = Dense(x, s.channels);
  g = Act(g, Pick(kGates));
  return builder_.Op(Name("multiply"), OpKind::kMultiply, {x, g});
}

std::string Generator::InnerSoftmaxStep(const std::string& x) {
  if (!ShapeOf(x).flat) return "";
  return builder_.Op(Name("softmax"), OpKind::kSoftmax, {x});
}

}  // namespace

Graph RandomGraph(std::mt19937_64& rng, const RandomGraphOptions& options,
                  RandomGraphStats* stats) {
  return Generator(rng, options, stats).Run();
}

}  // namespace edgenas
