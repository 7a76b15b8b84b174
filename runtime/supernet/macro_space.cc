#include "runtime/supernet/macro_space.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/blocks.h"

namespace edgenas {
namespace supernet {
namespace {

constexpr MacroOp kOps[kMacroOps] = {MacroOp::kConv3,    MacroOp::kConv5,   MacroOp::kSepConv3,
                                     MacroOp::kSepConv5, MacroOp::kMaxPool, MacroOp::kAvgPool};

// Builds one child, creating each earlier layer's reduced output only when a
// later layer reads it, so the child has no dead nodes.
class ChildBuilder {
 public:
  ChildBuilder(const MacroSpaceConfig& config, Graph* graph)
      : config_(config), reductions_(config.Reductions()), b_(graph) {}

  absl::Status Build(const std::vector<int>& decisions) {
    const std::string stem = b_.BatchNorm("stem/bn", b_.Conv("stem/conv", kInputName, config_.filters, 3,
                                                             1, -1, 1, /*bias=*/false));
    at_[{-1, 0}] = stem;
    size_t k = 0;
    int level = 0;
    for (int i = 0; i < config_.layers; ++i) {
      const int op = decisions[k++];
      std::vector<std::string> inputs = {Branch(i, kOps[op], At(i - 1, level), level)};
      for (int j = 0; j < i; ++j)
        if (decisions[k++] == 1) inputs.push_back(At(j, level));
      const std::string prefix = absl::StrCat("l", i);
      const std::string sum = inputs.size() == 1 ? inputs[0] : b_.Op(prefix + "/add", OpKind::kAdd, inputs);
      at_[{i, level}] = b_.BatchNorm(prefix + "/bn", sum);
      if (std::find(reductions_.begin(), reductions_.end(), i) != reductions_.end()) ++level;
    }
    std::string x = At(config_.layers - 1, level);
    x = b_.Act("head/relu", x, OpKind::kRelu);
    x = b_.Op("head/pool", OpKind::kGlobalAvgPool, {x});
    x = b_.Op("head/flat", OpKind::kFlatten, {x});
    b_.Dense("head/fc", x, config_.num_classes);
    return absl::OkStatus();
  }

 private:
  int Filters(int level) const { return config_.filters << level; }

  // Layer j's output (j = -1: the stem's) at `level`, reduced on demand.
  std::string At(int j, int level) {
    auto it = at_.find({j, level});
    if (it != at_.end()) return it->second;
    const std::string below = At(j, level - 1);
    const std::string name = absl::StrCat("r", level, "/", j < 0 ? std::string("stem") : absl::StrCat("l", j));
    const std::string out = b_.BatchNorm(
        name + "/bn", b_.Conv(name + "/conv", below, Filters(level), 1, 2, 0, 1, /*bias=*/false));
    at_[{j, level}] = out;
    return out;
  }

  std::string Branch(int i, MacroOp op, const std::string& input, int level) {
    const int f = Filters(level);
    const std::string p = absl::StrCat("l", i, "/", MacroOpName(op));
    std::string y = b_.Act(p + "/in/relu",
                           b_.BatchNorm(p + "/in/bn", b_.Conv(p + "/in/conv", input, f, 1, 1, 0, 1, false)),
                           OpKind::kRelu);
    switch (op) {
      case MacroOp::kConv3:
      case MacroOp::kConv5: {
        const int k = op == MacroOp::kConv3 ? 3 : 5;
        return b_.Act(p + "/relu", b_.BatchNorm(p + "/bn", b_.Conv(p + "/conv", y, f, k, 1, -1, 1, false)),
                      OpKind::kRelu);
      }
      case MacroOp::kSepConv3:
      case MacroOp::kSepConv5: {
        const int k = op == MacroOp::kSepConv3 ? 3 : 5;
        y = b_.Conv(p + "/dw", y, f, k, 1, -1, /*groups=*/f, false);
        y = b_.Conv(p + "/pw", y, f, 1, 1, 0, 1, false);
        return b_.Act(p + "/relu", b_.BatchNorm(p + "/bn", y), OpKind::kRelu);
      }
      case MacroOp::kMaxPool:
        return b_.Pool(p + "/pool", y, OpKind::kMaxPool, 3, 1, 1);
      case MacroOp::kAvgPool:
        return b_.Pool(p + "/pool", y, OpKind::kAvgPool, 3, 1, 1);
    }
    return y;
  }

  const MacroSpaceConfig& config_;
  const std::vector<int> reductions_;
  GraphBuilder b_;
  std::map<std::pair<int, int>, std::string> at_;  // (layer, level) -> node
};

}  // namespace

const char* MacroOpName(MacroOp op) {
  switch (op) {
    case MacroOp::kConv3:
      return "conv3";
    case MacroOp::kConv5:
      return "conv5";
    case MacroOp::kSepConv3:
      return "sep3";
    case MacroOp::kSepConv5:
      return "sep5";
    case MacroOp::kMaxPool:
      return "max";
    case MacroOp::kAvgPool:
      return "avg";
  }
  return "unknown";
}

std::vector<int> MacroSpaceConfig::Reductions() const {
  if (!reduce_after.empty()) return reduce_after;
  std::vector<int> r;
  for (int at : {layers / 3 - 1, 2 * layers / 3 - 1})
    if (at >= 0 && at < layers - 1 && (r.empty() || at > r.back())) r.push_back(at);
  return r;
}

absl::Status MacroSpaceConfig::Validate() const {
  if (layers < 1 || layers > 64) return absl::InvalidArgumentError("layers: must be in [1, 64]");
  if (filters < 1 || filters > 1024) return absl::InvalidArgumentError("filters: must be in [1, 1024]");
  if (num_classes < 2) return absl::InvalidArgumentError("num_classes: must be at least 2");
  const std::vector<int> r = Reductions();
  for (size_t i = 0; i < r.size(); ++i)
    if (r[i] < 0 || r[i] >= layers - 1 || (i > 0 && r[i] <= r[i - 1]))
      return absl::InvalidArgumentError(absl::StrCat(
          "reduce_after: must be ascending layers in [0, ", layers - 2, "]"));
  if ((filters << r.size()) > 4096)
    return absl::InvalidArgumentError("filters: doubled at every reduction, above 4096");
  if (std::min(input.height, input.width) < (1 << r.size()))
    return absl::InvalidArgumentError(absl::StrCat("reduce_after: ", r.size(),
                                                   " reductions of a ", input.height, "x",
                                                   input.width, " input"));
  return absl::OkStatus();
}

std::vector<int> MacroDecisionChoices(const MacroSpaceConfig& config) {
  std::vector<int> choices;
  for (int i = 0; i < config.layers; ++i) {
    choices.push_back(kMacroOps);
    for (int j = 0; j < i; ++j) choices.push_back(2);
  }
  return choices;
}

absl::StatusOr<Graph> MacroChild(const MacroSpaceConfig& config, const std::vector<int>& decisions) {
  if (absl::Status s = config.Validate(); !s.ok()) return s;
  const std::vector<int> choices = MacroDecisionChoices(config);
  if (decisions.size() != choices.size())
    return absl::InvalidArgumentError(absl::StrCat("macro child: ", decisions.size(),
                                                   " decisions, the space makes ", choices.size()));
  for (size_t k = 0; k < decisions.size(); ++k)
    if (decisions[k] < 0 || decisions[k] >= choices[k])
      return absl::InvalidArgumentError(absl::StrCat("macro child: decision ", k, " is ", decisions[k],
                                                     ", out of [0, ", choices[k], ")"));
  Graph g;
  g.input = config.input;
  g.num_classes = config.num_classes;
  ChildBuilder builder(config, &g);
  if (absl::Status s = builder.Build(decisions); !s.ok()) return s;
  if (absl::StatusOr<GraphInfo> info = AnalyzeGraph(g); !info.ok()) return info.status();
  return g;
}

absl::StatusOr<ParamStore> MacroSharedParams(const MacroSpaceConfig& config, uint64_t seed) {
  // One child per operation, every layer making it and every skip on,
  // between them hold every tensor any child can have.
  ParamStore store;
  std::mt19937_64 rng(seed);
  for (int op = 0; op < kMacroOps; ++op) {
    std::vector<int> d;
    for (int i = 0; i < config.layers; ++i) {
      d.push_back(op);
      for (int j = 0; j < i; ++j) d.push_back(1);
    }
    absl::StatusOr<Graph> g = MacroChild(config, d);
    if (!g.ok()) return g.status();
    absl::StatusOr<GraphInfo> info = AnalyzeGraph(*g);
    if (!info.ok()) return info.status();
    if (absl::Status s = InitParams(*g, *info, &store, rng); !s.ok()) return s;
  }
  return store;
}

}  // namespace supernet
}  // namespace edgenas
