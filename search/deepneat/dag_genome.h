// A NEAT genome whose phenotype is a DAG of parts rather than a network of
// weighted links: node genes carry a payload (a layer for DeepNEAT and
// CoDeepNEAT's modules, a module species for CoDeepNEAT's blueprints) and
// connection genes are the DAG's edges, numbered by the same innovation
// record as NEAT's (search/neat/genome.h). Node 0 is the DAG's input and
// node 1 its output; neither carries a payload that is read.
//
// The payload type P has ==, ToJson() and a static FromJson(json, path).
#ifndef EDGENAS_SEARCH_DEEPNEAT_DAG_GENOME_H_
#define EDGENAS_SEARCH_DEEPNEAT_DAG_GENOME_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "search/neat/evolution_params.h"
#include "search/neat/gene_alignment.h"
#include "search/neat/genome.h"

namespace edgenas {
namespace deepneat {

inline constexpr int kDagInput = 0;
inline constexpr int kDagOutput = 1;

struct DagLink {
  int in = 0, out = 0;
  bool enabled = true;
  int64_t innovation = 0;
  bool operator==(const DagLink& o) const {
    return in == o.in && out == o.out && enabled == o.enabled && innovation == o.innovation;
  }
};

template <typename P>
struct DagNode {
  int id = 0;
  P payload{};
  bool operator==(const DagNode& o) const { return id == o.id && payload == o.payload; }
};

template <typename P>
struct DagGenome {
  std::vector<DagNode<P>> nodes;  // sorted by id; 0 and 1 always present
  std::vector<DagLink> links;     // sorted by innovation
  double fitness = 0;

  bool operator==(const DagGenome& o) const { return nodes == o.nodes && links == o.links; }
  const DagNode<P>* Node(int id) const {
    auto it = std::lower_bound(nodes.begin(), nodes.end(), id,
                               [](const DagNode<P>& n, int v) { return n.id < v; });
    return it != nodes.end() && it->id == id ? &*it : nullptr;
  }

  nlohmann::json ToJson() const;
  static absl::StatusOr<DagGenome> FromJson(const nlohmann::json& j);
};

// The record of a DAG genome population: input 0, output 1, the link
// 0 -> 1 is innovation 0.
inline neat::InnovationRecord DagInnovations() { return neat::InnovationRecord(2, 1); }

// input -> output, nothing between.
template <typename P>
DagGenome<P> BareDag() {
  DagGenome<P> g;
  g.nodes = {{kDagInput, P{}}, {kDagOutput, P{}}};
  g.links = {{kDagInput, kDagOutput, true, 0}};
  return g;
}

// The nodes on some enabled path from the input to the output, in
// topological order (input first, output last); empty when the output
// cannot be reached.
template <typename P>
std::vector<int> LiveOrder(const DagGenome<P>& g);

// delta = c1 E / N + c2 D / N + c3 W over the link genes, W the mean
// `payload_distance` of the hidden nodes both genomes hold (by id).
template <typename P>
double DagDistance(const DagGenome<P>& a, const DagGenome<P>& b, const neat::EvolutionParams& e,
                   const std::function<double(const P&, const P&)>& payload_distance);

// NEAT's crossover on a DAG: links inherited as NEAT's genes are
// (gene_alignment.h); a node both parents hold takes either parent's
// payload. A link that would close a cycle stays disabled.
template <typename P>
DagGenome<P> DagCrossover(const DagGenome<P>& fitter, const DagGenome<P>& other, bool equal_fitness,
                          double disabled_inherit_rate, std::mt19937_64& rng);

// Splits a random enabled link in -> out with a new node carrying
// `payload`: in -> new, new -> out, the old link disabled. False when
// there is nothing to split or the split is already in the genome.
template <typename P>
bool DagAddNode(DagGenome<P>* g, neat::InnovationRecord* record, const P& payload,
                std::mt19937_64& rng);
// Links two unlinked nodes without closing a cycle (never into the input,
// never out of the output). False when `tries` draws found none.
template <typename P>
bool DagAddLink(DagGenome<P>* g, neat::InnovationRecord* record, int tries, std::mt19937_64& rng);

// ---- implementation -------------------------------------------------------

namespace dag_internal {

inline bool Chance(std::mt19937_64& rng, double p) {
  return std::uniform_real_distribution<double>(0, 1)(rng) < p;
}

// Whether `to` reaches `from` over enabled links (from -> to would close a cycle).
template <typename P>
bool Reaches(const DagGenome<P>& g, int from, int to) {
  if (from == to) return true;
  std::vector<int> stack = {to};
  std::set<int> seen = {to};
  while (!stack.empty()) {
    const int n = stack.back();
    stack.pop_back();
    for (const DagLink& l : g.links) {
      if (!l.enabled || l.in != n || seen.count(l.out)) continue;
      if (l.out == from) return true;
      seen.insert(l.out);
      stack.push_back(l.out);
    }
  }
  return false;
}

template <typename P>
void InsertNode(DagGenome<P>* g, DagNode<P> node) {
  auto at = std::lower_bound(g->nodes.begin(), g->nodes.end(), node.id,
                             [](const DagNode<P>& n, int id) { return n.id < id; });
  if (at != g->nodes.end() && at->id == node.id) return;
  g->nodes.insert(at, std::move(node));
}

template <typename P>
void InsertLink(DagGenome<P>* g, DagLink l) {
  auto at = std::lower_bound(g->links.begin(), g->links.end(), l.innovation,
                             [](const DagLink& x, int64_t v) { return x.innovation < v; });
  g->links.insert(at, l);
}

}  // namespace dag_internal

template <typename P>
nlohmann::json DagGenome<P>::ToJson() const {
  nlohmann::json n = nlohmann::json::array(), l = nlohmann::json::array();
  for (const DagNode<P>& node : nodes)
    if (node.id != kDagInput && node.id != kDagOutput) n.push_back({{"id", node.id}, {"gene", node.payload.ToJson()}});
  for (const DagLink& link : links) l.push_back({link.innovation, link.in, link.out, link.enabled});
  return {{"nodes", n}, {"links", l}, {"fitness", fitness}};
}

template <typename P>
absl::StatusOr<DagGenome<P>> DagGenome<P>::FromJson(const nlohmann::json& j) {
  const auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("genome: ", what));
  };
  if (!j.is_object() || !j.contains("nodes") || !j.contains("links") || !j["nodes"].is_array() ||
      !j["links"].is_array())
    return bad("needs the lists nodes and links");
  DagGenome<P> g;
  g.nodes = {{kDagInput, P{}}, {kDagOutput, P{}}};
  if (j.contains("fitness")) {
    if (!j["fitness"].is_number()) return bad("fitness: must be a number");
    g.fitness = j["fitness"].get<double>();
  }
  for (size_t i = 0; i < j["nodes"].size(); ++i) {
    const nlohmann::json& n = j["nodes"][i];
    const std::string path = absl::StrCat("genome.nodes[", i, "]");
    if (!n.is_object() || !n.contains("id") || !n["id"].is_number_integer() || !n.contains("gene"))
      return bad(absl::StrCat("nodes[", i, "]: needs an integer id and a gene"));
    const int id = n["id"].get<int>();
    if (id < 2 || g.Node(id) != nullptr)
      return bad(absl::StrCat("nodes[", i, "].id: ", id, " is reserved or repeated"));
    absl::StatusOr<P> payload = P::FromJson(n["gene"], path + ".gene");
    if (!payload.ok()) return payload.status();
    dag_internal::InsertNode(&g, DagNode<P>{id, *std::move(payload)});
  }
  g.links.clear();
  for (size_t i = 0; i < j["links"].size(); ++i) {
    const nlohmann::json& c = j["links"][i];
    if (!c.is_array() || c.size() != 4 || !c[0].is_number_integer() || !c[1].is_number_integer() ||
        !c[2].is_number_integer() || !c[3].is_boolean())
      return bad(absl::StrCat("links[", i, "]: is [innovation, in, out, enabled]"));
    DagLink l{c[1].get<int>(), c[2].get<int>(), c[3].get<bool>(), c[0].get<int64_t>()};
    if (!g.Node(l.in) || !g.Node(l.out) || l.out == kDagInput || l.in == kDagOutput)
      return bad(absl::StrCat("links[", i, "]: names a missing node or runs backwards"));
    dag_internal::InsertLink(&g, l);
  }
  for (const DagLink& l : g.links) {
    if (!l.enabled) continue;
    DagGenome<P> without = g;
    for (DagLink& x : without.links)
      if (x.innovation == l.innovation) x.enabled = false;
    if (dag_internal::Reaches(without, l.in, l.out)) return bad("the links close a cycle");
  }
  return g;
}

template <typename P>
std::vector<int> LiveOrder(const DagGenome<P>& g) {
  // Forward from the input, backward from the output; live = both.
  std::set<int> from_input = {kDagInput}, to_output = {kDagOutput};
  for (bool grew = true; grew;) {
    grew = false;
    for (const DagLink& l : g.links) {
      if (!l.enabled) continue;
      if (from_input.count(l.in) && from_input.insert(l.out).second) grew = true;
      if (to_output.count(l.out) && to_output.insert(l.in).second) grew = true;
    }
  }
  if (!from_input.count(kDagOutput)) return {};
  std::set<int> live;
  for (int id : from_input)
    if (to_output.count(id)) live.insert(id);
  // Kahn's order over the live nodes, lowest id first among the ready.
  std::map<int, int> indegree;
  for (int id : live) indegree[id] = 0;
  for (const DagLink& l : g.links)
    if (l.enabled && live.count(l.in) && live.count(l.out)) ++indegree[l.out];
  std::set<int> ready;
  for (auto [id, d] : indegree)
    if (d == 0) ready.insert(id);
  std::vector<int> order;
  while (!ready.empty()) {
    const int n = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(n);
    for (const DagLink& l : g.links)
      if (l.enabled && l.in == n && live.count(l.out) && --indegree[l.out] == 0) ready.insert(l.out);
  }
  return order;
}

template <typename P>
double DagDistance(const DagGenome<P>& a, const DagGenome<P>& b, const neat::EvolutionParams& e,
                   const std::function<double(const P&, const P&)>& payload_distance) {
  const neat::GeneCounts c = neat::AlignGenes(a.links, b.links, [](const DagLink&, const DagLink&) {});
  double diff = 0;
  int matching = 0;
  for (const DagNode<P>& node : a.nodes) {
    if (node.id == kDagInput || node.id == kDagOutput) continue;
    if (const DagNode<P>* other = b.Node(node.id)) {
      diff += payload_distance(node.payload, other->payload);
      ++matching;
    }
  }
  return neat::Compatibility(c, matching > 0 ? diff / matching : 0, e);
}

template <typename P>
DagGenome<P> DagCrossover(const DagGenome<P>& fitter, const DagGenome<P>& other, bool equal_fitness,
                          double disabled_inherit_rate, std::mt19937_64& rng) {
  using dag_internal::Chance;
  DagGenome<P> child;
  child.nodes = {{kDagInput, P{}}, {kDagOutput, P{}}};
  std::vector<bool> may_close_cycle;
  child.links = neat::InheritGenes(fitter.links, other.links, equal_fitness, disabled_inherit_rate, rng,
                                   &may_close_cycle);
  // Nodes the links name, each with a payload from a parent holding it.
  for (const DagLink& l : child.links) {
    for (int id : {l.in, l.out}) {
      if (child.Node(id)) continue;
      const DagNode<P>* a = fitter.Node(id);
      const DagNode<P>* b = other.Node(id);
      const DagNode<P>* pick = a && b ? (Chance(rng, 0.5) ? b : a) : (a ? a : b);
      dag_internal::InsertNode(&child, *pick);
    }
  }
  for (size_t k = 0; k < child.links.size(); ++k) {
    DagLink& l = child.links[k];
    if (!l.enabled || !may_close_cycle[k]) continue;
    l.enabled = false;
    if (!dag_internal::Reaches(child, l.in, l.out)) l.enabled = true;
  }
  return child;
}

template <typename P>
bool DagAddNode(DagGenome<P>* g, neat::InnovationRecord* record, const P& payload,
                std::mt19937_64& rng) {
  std::vector<size_t> enabled;
  for (size_t i = 0; i < g->links.size(); ++i)
    if (g->links[i].enabled) enabled.push_back(i);
  if (enabled.empty()) return false;
  DagLink& old = g->links[enabled[std::uniform_int_distribution<size_t>(0, enabled.size() - 1)(rng)]];
  const neat::InnovationRecord::Split s = record->SplitOf(old.innovation);
  if (g->Node(s.node)) return false;  // this split is in the genome already
  old.enabled = false;
  const DagLink in{old.in, s.node, true, s.in_innovation};
  const DagLink out{s.node, old.out, true, s.out_innovation};
  dag_internal::InsertNode(g, DagNode<P>{s.node, payload});
  dag_internal::InsertLink(g, in);
  dag_internal::InsertLink(g, out);
  return true;
}

template <typename P>
bool DagAddLink(DagGenome<P>* g, neat::InnovationRecord* record, int tries, std::mt19937_64& rng) {
  std::uniform_int_distribution<size_t> pick(0, g->nodes.size() - 1);
  for (int t = 0; t < tries; ++t) {
    const int from = g->nodes[pick(rng)].id, to = g->nodes[pick(rng)].id;
    if (from == to || to == kDagInput || from == kDagOutput) continue;
    if (std::any_of(g->links.begin(), g->links.end(),
                    [&](const DagLink& l) { return l.in == from && l.out == to; }))
      continue;
    if (dag_internal::Reaches(*g, from, to)) continue;
    dag_internal::InsertLink(g, DagLink{from, to, true, record->Link(from, to)});
    return true;
  }
  return false;
}

}  // namespace deepneat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_DEEPNEAT_DAG_GENOME_H_
