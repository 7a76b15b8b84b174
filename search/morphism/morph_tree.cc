#include "search/morphism/morph_tree.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <list>
#include <map>
#include <queue>

#include "absl/strings/str_cat.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"
#include "search/api/json_params.h"

namespace edgenas {
namespace morphism {
namespace {

constexpr MorphKind kMorphKinds[] = {MorphKind::kDeepen, MorphKind::kWiden, MorphKind::kSkipAdd,
                                     MorphKind::kSkipConcat, MorphKind::kEnlarge};

// Fathers kept loaded during one search: a node is expanded from its
// root's weights, and the queue pops nodes of a few roots at a time.
constexpr size_t kLoadedRoots = 8;

// The width a widen step grows a layer to: by half, at least 4 channels
// more, rounded up to a multiple of 4 (Net2Net widens by comparable
// factors; multiples of 4 keep the engine's channel blocking whole).
int WiderWidth(int width) {
  const int grown = width + std::max(4, width / 2);
  return (grown + 3) / 4 * 4;
}

int WidthOf(const Graph& graph, const std::string& name) {
  const int i = graph.Find(name);
  if (i < 0) return 0;
  const Node& n = graph.nodes[i];
  return n.op == OpKind::kDense ? n.dense.units : n.conv.out_channels;
}

}  // namespace

nlohmann::json MorphStep::ToJson() const {
  nlohmann::json j = {{"kind", MorphKindName(kind)}, {"node", node}};
  switch (kind) {
    case MorphKind::kDeepen:
    case MorphKind::kEnlarge:
      break;
    case MorphKind::kWiden:
      j["width"] = width;
      j["seed"] = std::to_string(seed);
      break;
    case MorphKind::kSkipAdd:
    case MorphKind::kSkipConcat:
      j["to"] = to;
      break;
  }
  return j;
}

absl::StatusOr<MorphStep> MorphStep::FromJson(const nlohmann::json& j, const std::string& field) {
  JsonParams p(j, field);
  if (absl::Status s = p.CheckObject(); !s.ok()) return s;
  MorphStep step;
  std::string kind, seed;
  for (const char* key : {"kind", "node"})
    if (absl::Status s = p.Require(key); !s.ok()) return s;
  if (absl::Status s = p.String("kind", &kind); !s.ok()) return s;
  if (absl::Status s = p.String("node", &step.node); !s.ok()) return s;
  if (absl::Status s = p.String("to", &step.to); !s.ok()) return s;
  if (absl::Status s = p.Int("width", 0, std::numeric_limits<int>::max(), &step.width); !s.ok())
    return s;
  if (absl::Status s = p.String("seed", &seed); !s.ok()) return s;
  if (absl::Status s = p.Finish(); !s.ok()) return s;
  bool known = false;
  for (MorphKind k : kMorphKinds) {
    if (kind == MorphKindName(k)) step.kind = k, known = true;
  }
  if (!known) return absl::InvalidArgumentError(absl::StrCat(field, ".kind: unknown morph '", kind, "'"));
  if (!seed.empty()) {
    char* end = nullptr;
    step.seed = std::strtoull(seed.c_str(), &end, 10);
    if (end == nullptr || *end != '\0')
      return absl::InvalidArgumentError(absl::StrCat(field, ".seed: not a decimal integer"));
  }
  return step;
}

absl::StatusOr<Model> ApplyMorphs(const Model& parent, const std::vector<MorphStep>& steps,
                                  const MorphSettings& settings) {
  if (steps.empty()) return parent;
  std::optional<Model> current;
  for (const MorphStep& step : steps) {
    const Model& from = current ? *current : parent;
    absl::StatusOr<Model> next;
    switch (step.kind) {
      case MorphKind::kDeepen: {
        DeepenOptions o;
        o.after = step.node;
        o.batch_norm = settings.deepen_batch_norm;
        next = Deepen(from, o);
        break;
      }
      case MorphKind::kWiden: {
        WidenOptions o;
        o.node = step.node;
        o.width = step.width;
        o.seed = step.seed;
        o.noise = settings.widen_noise;
        next = Widen(from, o);
        break;
      }
      case MorphKind::kSkipAdd:
      case MorphKind::kSkipConcat: {
        SkipOptions o;
        o.from = step.node;
        o.to = step.to;
        o.kind = step.kind == MorphKind::kSkipAdd ? SkipKind::kAdd : SkipKind::kConcat;
        next = AddSkip(from, o);
        break;
      }
      case MorphKind::kEnlarge: {
        EnlargeOptions o;
        o.node = step.node;
        next = EnlargeKernel(from, o);
        break;
      }
    }
    if (!next.ok()) return next.status();
    current = *std::move(next);
  }
  return *std::move(current);
}

absl::StatusOr<const Model*> MorphTreeSearch::LoadRoot(int root) {
  for (auto it = loaded_.begin(); it != loaded_.end(); ++it) {
    if (it->first == root) {
      loaded_.splice(loaded_.begin(), loaded_, it);
      return &loaded_.front().second;
    }
  }
  absl::StatusOr<Model> m = load_(root);
  if (!m.ok()) return m.status();
  loaded_.emplace_front(root, *std::move(m));
  if (loaded_.size() > kLoadedRoots) loaded_.pop_back();
  return &loaded_.front().second;
}

absl::StatusOr<std::vector<MorphCandidate>> MorphTreeSearch::Neighbours(
    const MorphCandidate& node, std::set<std::string>* seen, std::mt19937_64& rng,
    TreeSearchStats* stats) {
  absl::StatusOr<std::vector<MorphSite>> sites = MorphSites(node.graph);
  if (!sites.ok()) return sites.status();
  std::map<MorphKind, std::vector<const MorphSite*>> by_kind;
  for (const MorphSite& s : *sites) by_kind[s.kind].push_back(&s);
  std::vector<MorphCandidate> out;
  if (by_kind.empty()) return out;
  std::vector<MorphKind> kinds;
  for (const auto& [kind, list] : by_kind) kinds.push_back(kind);

  std::optional<Model> model;  // the node's model, made on first need
  // Twice the neighbours' number of draws, as Auto-Keras tries, so that
  // refused draws do not leave a node without neighbours.
  for (int draw = 0; draw < 2 * annealing_.neighbours &&
                     static_cast<int>(out.size()) < annealing_.neighbours;
       ++draw) {
    const MorphKind kind = kinds[std::uniform_int_distribution<size_t>(0, kinds.size() - 1)(rng)];
    const std::vector<const MorphSite*>& list = by_kind[kind];
    const MorphSite& site = *list[std::uniform_int_distribution<size_t>(0, list.size() - 1)(rng)];
    MorphStep step;
    step.kind = kind;
    step.node = site.node;
    step.to = site.to;
    if (kind == MorphKind::kWiden) {
      step.width = WiderWidth(WidthOf(node.graph, site.node));
      step.seed = rng();
    }
    if (!model) {
      absl::StatusOr<const Model*> root = LoadRoot(node.root);
      if (!root.ok()) return root.status();
      absl::StatusOr<Model> m = ApplyMorphs(**root, node.steps, morph_);
      if (!m.ok()) return m.status();
      model = *std::move(m);
    }
    absl::StatusOr<Model> child = ApplyMorphs(*model, {step}, morph_);
    if (!child.ok()) {
      // MorphSites said it applies, so this is a disagreement between a
      // check and its morph: counted (and reported by the strategy), not
      // worth a whole search.
      ++stats->failed;
      continue;
    }
    absl::StatusOr<GraphInfo> info = AnalyzeGraph(child->graph);
    if (!info.ok()) return info.status();
    absl::StatusOr<std::string> hash = CanonicalHash(child->graph);
    if (!hash.ok()) return hash.status();
    if (info->flops > max_flops_ || !seen->insert(*hash).second) {
      ++stats->refused;
      continue;
    }
    absl::StatusOr<ArchitectureDescriptor> descriptor = Describe(child->graph);
    if (!descriptor.ok()) return descriptor.status();
    MorphCandidate c;
    c.root = node.root;
    c.steps = node.steps;
    c.steps.push_back(step);
    c.graph = std::move(child->graph);
    c.descriptor = *std::move(descriptor);
    c.graph_hash = *std::move(hash);
    c.flops = info->flops;
    c.acquisition = acquisition_(c.descriptor);
    ++stats->generated;
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<std::optional<MorphCandidate>> MorphTreeSearch::Search(
    const std::vector<Graph>& roots, const std::set<std::string>& seen_before, std::mt19937_64& rng,
    TreeSearchStats* stats) {
  TreeSearchStats local;
  if (stats == nullptr) stats = &local;
  loaded_.clear();  // the indices may name other models than last time
  std::set<std::string> seen = seen_before;
  auto lower = [](const MorphCandidate& a, const MorphCandidate& b) {
    return a.acquisition < b.acquisition;
  };
  std::priority_queue<MorphCandidate, std::vector<MorphCandidate>, decltype(lower)> queue(lower);
  for (size_t i = 0; i < roots.size(); ++i) {
    MorphCandidate root;
    root.root = static_cast<int>(i);
    root.graph = roots[i];
    absl::StatusOr<ArchitectureDescriptor> d = Describe(root.graph);
    if (!d.ok()) return d.status();
    root.descriptor = *std::move(d);
    root.acquisition = acquisition_(root.descriptor);
    queue.push(std::move(root));
  }
  std::optional<MorphCandidate> best;
  double best_acquisition = -std::numeric_limits<double>::infinity();
  std::uniform_real_distribution<double> unit(0, 1);
  for (double t = annealing_.initial_temperature; !queue.empty() && t > annealing_.min_temperature;
       t *= annealing_.cooling) {
    MorphCandidate node = queue.top();
    queue.pop();
    const double accept = std::exp(std::min((node.acquisition - best_acquisition) / t, 1.0));
    if (accept < unit(rng)) continue;
    ++stats->expanded;
    absl::StatusOr<std::vector<MorphCandidate>> next = Neighbours(node, &seen, rng, stats);
    if (!next.ok()) return next.status();
    for (MorphCandidate& c : *next) {
      if (c.acquisition > best_acquisition) {
        best_acquisition = c.acquisition;
        best = c;
      }
      queue.push(std::move(c));
    }
  }
  return best;
}

}  // namespace morphism
}  // namespace edgenas
