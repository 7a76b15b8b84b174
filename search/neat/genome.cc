#include "search/neat/genome.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "search/neat/gene_alignment.h"

namespace edgenas {
namespace neat {
namespace {

double Uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

bool Chance(std::mt19937_64& rng, double p) { return Uniform(rng, 0, 1) < p; }

size_t Pick(std::mt19937_64& rng, size_t n) {
  return std::uniform_int_distribution<size_t>(0, n - 1)(rng);
}

// Whether `to` can already reach `from` over enabled links: then from -> to
// would close a cycle.
bool Reaches(const Genome& g, int from, int to) {
  if (from == to) return true;
  std::vector<int> stack = {to};
  std::set<int> seen = {to};
  while (!stack.empty()) {
    const int n = stack.back();
    stack.pop_back();
    for (const ConnectionGene& c : g.connections) {
      if (!c.enabled || c.in != n || seen.count(c.out)) continue;
      if (c.out == from) return true;
      seen.insert(c.out);
      stack.push_back(c.out);
    }
  }
  return false;
}

void AddNode(Genome* g, NodeGene node) {
  auto at = std::lower_bound(g->nodes.begin(), g->nodes.end(), node.id,
                             [](const NodeGene& n, int id) { return n.id < id; });
  if (at != g->nodes.end() && at->id == node.id) return;
  g->nodes.insert(at, node);
}

void AddConnection(Genome* g, ConnectionGene c) {
  auto at = std::lower_bound(
      g->connections.begin(), g->connections.end(), c.innovation,
      [](const ConnectionGene& x, int64_t innovation) { return x.innovation < innovation; });
  g->connections.insert(at, c);
}

}  // namespace

int Genome::HiddenNodes() const {
  return static_cast<int>(
      std::count_if(nodes.begin(), nodes.end(), [](const NodeGene& n) { return n.type == NodeType::kHidden; }));
}

int Genome::EnabledConnections() const {
  return static_cast<int>(std::count_if(connections.begin(), connections.end(),
                                        [](const ConnectionGene& c) { return c.enabled; }));
}

nlohmann::json Genome::ToJson() const {
  nlohmann::json nodes_json = nlohmann::json::array(), links = nlohmann::json::array();
  for (const NodeGene& n : nodes) nodes_json.push_back({n.id, static_cast<int>(n.type)});
  for (const ConnectionGene& c : connections)
    links.push_back({c.innovation, c.in, c.out, c.weight, c.enabled});
  return {{"nodes", nodes_json}, {"connections", links}, {"fitness", fitness}};
}

absl::StatusOr<Genome> Genome::FromJson(const nlohmann::json& j) {
  const auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("genome: ", what));
  };
  if (!j.is_object() || !j.contains("nodes") || !j.contains("connections") ||
      !j["nodes"].is_array() || !j["connections"].is_array())
    return bad("needs the lists nodes and connections");
  Genome g;
  g.fitness = j.value("fitness", 0.0);
  std::set<int> ids;
  for (const nlohmann::json& n : j["nodes"]) {
    if (!n.is_array() || n.size() != 2 || !n[0].is_number_integer() || !n[1].is_number_integer())
      return bad("a node is [id, type]");
    const int type = n[1].get<int>();
    if (type < 0 || type > static_cast<int>(NodeType::kHidden)) return bad("a node's type is 0-3");
    if (!ids.insert(n[0].get<int>()).second) return bad("two nodes share an id");
    g.nodes.push_back({n[0].get<int>(), static_cast<NodeType>(type)});
  }
  std::sort(g.nodes.begin(), g.nodes.end(), [](const NodeGene& a, const NodeGene& b) { return a.id < b.id; });
  for (const nlohmann::json& c : j["connections"]) {
    if (!c.is_array() || c.size() != 5 || !c[0].is_number_integer() || !c[1].is_number_integer() ||
        !c[2].is_number_integer() || !c[3].is_number() || !c[4].is_boolean())
      return bad("a connection is [innovation, in, out, weight, enabled]");
    ConnectionGene gene{c[1].get<int>(), c[2].get<int>(), c[3].get<double>(), c[4].get<bool>(),
                        c[0].get<int64_t>()};
    if (!ids.count(gene.in) || !ids.count(gene.out)) return bad("a connection names a missing node");
    g.connections.push_back(gene);
  }
  std::sort(g.connections.begin(), g.connections.end(),
            [](const ConnectionGene& a, const ConnectionGene& b) { return a.innovation < b.innovation; });
  return g;
}

int64_t InnovationRecord::Link(int in, int out) {
  auto [it, added] = links_.emplace(std::make_pair(in, out), next_innovation_);
  if (added) ++next_innovation_;
  return it->second;
}

InnovationRecord::Split InnovationRecord::SplitOf(int64_t innovation) {
  auto it = splits_.find(innovation);
  if (it != splits_.end()) return it->second;
  Split s{next_node_++, next_innovation_, next_innovation_ + 1};
  next_innovation_ += 2;
  splits_[innovation] = s;
  return s;
}

void InnovationRecord::NextGeneration() {
  links_.clear();
  splits_.clear();
}

nlohmann::json InnovationRecord::ToJson() const {
  nlohmann::json links = nlohmann::json::array(), splits = nlohmann::json::array();
  for (const auto& [key, innovation] : links_) links.push_back({key.first, key.second, innovation});
  for (const auto& [innovation, s] : splits_)
    splits.push_back({innovation, s.node, s.in_innovation, s.out_innovation});
  return {{"next_node", next_node_},
          {"next_innovation", next_innovation_},
          {"links", links},
          {"splits", splits}};
}

absl::StatusOr<InnovationRecord> InnovationRecord::FromJson(const nlohmann::json& j) {
  const auto bad = absl::InvalidArgumentError("innovations: not a saved innovation record");
  for (const char* list : {"links", "splits"})
    if (j.is_object() && j.contains(list))
      for (const nlohmann::json& e : j[list])
        if (!e.is_array() || std::any_of(e.begin(), e.end(), [](const nlohmann::json& v) {
              return !v.is_number_integer();
            }))
          return bad;
  if (!j.is_object() || !j.contains("next_node") || !j.contains("next_innovation") ||
      !j["next_node"].is_number_integer() || !j["next_innovation"].is_number_integer())
    return bad;
  InnovationRecord r(j["next_node"].get<int>(), j["next_innovation"].get<int64_t>());
  for (const nlohmann::json& l : j.value("links", nlohmann::json::array())) {
    if (!l.is_array() || l.size() != 3) return bad;
    r.links_[{l[0].get<int>(), l[1].get<int>()}] = l[2].get<int64_t>();
  }
  for (const nlohmann::json& s : j.value("splits", nlohmann::json::array())) {
    if (!s.is_array() || s.size() != 4) return bad;
    r.splits_[s[0].get<int64_t>()] = {s[1].get<int>(), s[2].get<int64_t>(), s[3].get<int64_t>()};
  }
  return r;
}

int BiasNode(int inputs) { return inputs; }
int FirstOutputNode(int inputs) { return inputs + 1; }

Genome MinimalGenome(int inputs, int outputs, const NeatConfig& config, std::mt19937_64& rng) {
  Genome g;
  for (int i = 0; i < inputs; ++i) g.nodes.push_back({i, NodeType::kInput});
  g.nodes.push_back({BiasNode(inputs), NodeType::kBias});
  for (int o = 0; o < outputs; ++o) g.nodes.push_back({FirstOutputNode(inputs) + o, NodeType::kOutput});
  int64_t innovation = 0;
  for (int o = 0; o < outputs; ++o)
    for (int i = 0; i <= inputs; ++i)
      g.connections.push_back({i, FirstOutputNode(inputs) + o,
                               Uniform(rng, -config.weight_init_range, config.weight_init_range),
                               true, innovation++});
  return g;
}

InnovationRecord MinimalInnovations(int inputs, int outputs) {
  return InnovationRecord(FirstOutputNode(inputs) + outputs, int64_t{inputs + 1} * outputs);
}

double CompatibilityDistance(const Genome& a, const Genome& b, const NeatConfig& config) {
  double weight_diff = 0;
  const GeneCounts c = AlignGenes(a.connections, b.connections,
                                  [&](const ConnectionGene& x, const ConnectionGene& y) {
                                    weight_diff += std::abs(x.weight - y.weight);
                                  });
  return Compatibility(c, c.matching > 0 ? weight_diff / c.matching : 0, config);
}

Genome Crossover(const Genome& fitter, const Genome& other, bool equal_fitness,
                 const NeatConfig& config, std::mt19937_64& rng) {
  Genome child;
  // The fitter parent's inputs, bias and outputs; hidden nodes as genes bring them.
  for (const NodeGene& n : fitter.nodes)
    if (n.type != NodeType::kHidden) child.nodes.push_back(n);
  std::vector<bool> may_close_cycle;
  child.connections = InheritGenes(fitter.connections, other.connections, equal_fitness,
                                   config.disabled_inherit_rate, rng, &may_close_cycle);
  for (const ConnectionGene& c : child.connections)
    for (int id : {c.in, c.out})
      if (std::none_of(child.nodes.begin(), child.nodes.end(), [id](const NodeGene& n) { return n.id == id; }))
        AddNode(&child, {id, NodeType::kHidden});
  std::sort(child.nodes.begin(), child.nodes.end(), [](const NodeGene& a, const NodeGene& b) { return a.id < b.id; });
  // A child of a feed-forward run must stay acyclic. The fitter parent's
  // enabled genes are; a gene it had disabled, or one from the other parent,
  // could close a cycle: those are checked, and left disabled if they do.
  if (!config.recurrent) {
    for (size_t k = 0; k < child.connections.size(); ++k) {
      ConnectionGene& c = child.connections[k];
      if (!c.enabled || !may_close_cycle[k]) continue;
      c.enabled = false;
      if (!Reaches(child, c.in, c.out)) c.enabled = true;
    }
  }
  return child;
}

void MutateWeights(Genome* g, const NeatConfig& config, std::mt19937_64& rng) {
  for (ConnectionGene& c : g->connections) {
    if (Chance(rng, config.weight_perturb_rate)) {
      c.weight += Uniform(rng, -config.weight_perturb_power, config.weight_perturb_power);
    } else {
      c.weight = Uniform(rng, -config.weight_replace_range, config.weight_replace_range);
    }
    c.weight = std::clamp(c.weight, -config.weight_cap, config.weight_cap);
  }
}

bool MutateAddNode(Genome* g, InnovationRecord* record, std::mt19937_64& rng) {
  // Not a link from the bias: a node on it would only relay a constant
  // (Stanley's NEAT C++ skips them too).
  std::set<int> bias;
  for (const NodeGene& n : g->nodes)
    if (n.type == NodeType::kBias) bias.insert(n.id);
  std::vector<size_t> enabled;
  for (size_t i = 0; i < g->connections.size(); ++i)
    if (g->connections[i].enabled && !bias.count(g->connections[i].in)) enabled.push_back(i);
  if (enabled.empty()) return false;
  // A small genome splits an older link rather than a newer one: a walk
  // from the oldest candidate that stops at each with probability 0.3, and
  // no split when it walks past the newest (NEAT C++ does this below 15
  // genes; it makes XOR's early hidden nodes split input links).
  size_t pick = 0;
  if (g->connections.size() < 15) {
    while (pick < enabled.size() && Chance(rng, 0.7)) ++pick;
    if (pick == enabled.size()) return false;
  } else {
    pick = Pick(rng, enabled.size());
  }
  ConnectionGene& old = g->connections[enabled[pick]];
  const InnovationRecord::Split s = record->SplitOf(old.innovation);
  // The same split twice in one genome (re-enabled, split again) would
  // reuse the node: refuse it rather than duplicate genes.
  if (std::any_of(g->nodes.begin(), g->nodes.end(), [&](const NodeGene& n) { return n.id == s.node; }))
    return false;
  old.enabled = false;
  const ConnectionGene in{old.in, s.node, 1.0, true, s.in_innovation};
  const ConnectionGene out{s.node, old.out, old.weight, true, s.out_innovation};
  AddNode(g, {s.node, NodeType::kHidden});
  AddConnection(g, in);
  AddConnection(g, out);
  return true;
}

bool MutateAddLink(Genome* g, InnovationRecord* record, const NeatConfig& config,
                   std::mt19937_64& rng) {
  for (int t = 0; t < config.add_link_tries; ++t) {
    const NodeGene& from = g->nodes[Pick(rng, g->nodes.size())];
    const NodeGene& to = g->nodes[Pick(rng, g->nodes.size())];
    if (to.type == NodeType::kInput || to.type == NodeType::kBias) continue;
    if (!config.recurrent && (from.id == to.id || from.type == NodeType::kOutput)) continue;
    if (std::any_of(g->connections.begin(), g->connections.end(),
                    [&](const ConnectionGene& c) { return c.in == from.id && c.out == to.id; }))
      continue;
    if (!config.recurrent && Reaches(*g, from.id, to.id)) continue;
    AddConnection(g, {from.id, to.id,
                      Uniform(rng, -config.weight_init_range, config.weight_init_range), true,
                      record->Link(from.id, to.id)});
    return true;
  }
  return false;
}

}  // namespace neat
}  // namespace edgenas
