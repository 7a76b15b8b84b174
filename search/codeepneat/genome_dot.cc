#include "search/codeepneat/genome_dot.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace edgenas {
namespace codeepneat {
namespace {

using deepneat::kDagInput;
using deepneat::kDagOutput;

// A string as a DOT quoted string.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out + "\"";
}

std::string Header(const std::string& title, const char* rankdir) {
  return absl::StrCat("digraph genome {\n  rankdir=", rankdir, ";\n  labelloc=t;\n  label=",
                      Quote(title), ";\n  node [fontname=\"Helvetica\", fontsize=10];\n",
                      "  edge [fontname=\"Helvetica\", fontsize=8];\n");
}

std::string LayerLabel(const deepneat::LayerGene& l) {
  std::string s = deepneat::LayerTypeName(l.type);
  switch (l.type) {
    case deepneat::LayerType::kConv:
    case deepneat::LayerType::kDwSeparable:
      absl::StrAppend(&s, "\n", l.width, " ch, ", l.kernel, "x", l.kernel);
      break;
    case deepneat::LayerType::kMBConv:
      absl::StrAppend(&s, "\n", l.width, " ch, ", l.kernel, "x", l.kernel, ", x", l.expand,
                      l.se_ratio > 0 ? ", se" : "");
      break;
    case deepneat::LayerType::kFire:
      absl::StrAppend(&s, "\n", l.width, " ch, squeeze ", l.squeeze_ratio);
      break;
    case deepneat::LayerType::kDense:
      absl::StrAppend(&s, "\n", l.width, " units");
      break;
    case deepneat::LayerType::kMaxPool:
    case deepneat::LayerType::kAvgPool:
      break;
  }
  if (l.stride == 2) absl::StrAppend(&s, ", /2");
  return s;
}

template <typename P>
std::string DagDot(const deepneat::DagGenome<P>& g, const std::string& title,
                   const std::function<std::string(const P&)>& label,
                   const std::function<std::string(const P&)>& color) {
  std::string dot = Header(title, "TB");
  for (const auto& n : g.nodes) {
    if (n.id == kDagInput) {
      absl::StrAppend(&dot, "  n0 [label=\"input\", shape=invhouse];\n");
    } else if (n.id == kDagOutput) {
      absl::StrAppend(&dot, "  n1 [label=\"output\", shape=house];\n");
    } else {
      absl::StrAppend(&dot, "  n", n.id, " [label=", Quote(absl::StrCat(label(n.payload), "\n#", n.id)),
                      ", shape=box, style=filled, fillcolor=", Quote(color(n.payload)), "];\n");
    }
  }
  for (const deepneat::DagLink& l : g.links)
    absl::StrAppend(&dot, "  n", l.in, " -> n", l.out, l.enabled ? "" : " [style=dashed, color=gray]", ";\n");
  return dot + "}\n";
}

// A pastel colour per integer (species, layer type), cycling.
std::string Palette(int k) {
  static const char* kColours[] = {"#cfe2f3", "#d9ead3", "#fff2cc", "#f4cccc", "#d9d2e9",
                                   "#fce5cd", "#d0e0e3", "#ead1dc", "#c9daf8", "#e6b8af"};
  return kColours[((k % 10) + 10) % 10];
}

template <typename Genome>
absl::StatusOr<Genome> Pick(const nlohmann::json& population, int index) {
  if (index < 0) return Genome::FromJson(population.at("best"));
  const nlohmann::json& genomes = population.at("genomes");
  if (index >= static_cast<int>(genomes.size()))
    return absl::InvalidArgumentError(absl::StrCat("index: ", index, " but the population has ",
                                                   genomes.size(), " genomes"));
  return Genome::FromJson(genomes[index]);
}

}  // namespace

std::string NeatGenomeDot(const neat::Genome& g, const std::string& title) {
  std::string dot = Header(title, "BT");
  for (const neat::NodeGene& n : g.nodes) {
    const char* shape = "circle";
    std::string label = absl::StrCat(n.id);
    switch (n.type) {
      case neat::NodeType::kInput: shape = "invtriangle"; label = absl::StrCat("in ", n.id); break;
      case neat::NodeType::kBias: shape = "invtriangle"; label = "bias"; break;
      case neat::NodeType::kOutput: shape = "doublecircle"; label = absl::StrCat("out ", n.id); break;
      case neat::NodeType::kHidden: break;
    }
    absl::StrAppend(&dot, "  n", n.id, " [label=", Quote(label), ", shape=", shape, "];\n");
  }
  for (const neat::ConnectionGene& c : g.connections)
    absl::StrAppend(&dot, "  n", c.in, " -> n", c.out, " [label=",
                    Quote(absl::StrFormat("%.2f (#%d)", c.weight, c.innovation)),
                    c.enabled ? (c.weight < 0 ? ", color=firebrick" : ", color=navy") : ", style=dashed, color=gray",
                    "];\n");
  return dot + "}\n";
}

std::string LayerGenomeDot(const deepneat::LayerGenome& g, const std::string& title) {
  return DagDot<deepneat::LayerGene>(
      g, title, LayerLabel, [](const deepneat::LayerGene& l) { return Palette(static_cast<int>(l.type)); });
}

std::string BlueprintDot(const Blueprint& b, const std::string& title) {
  const TrainingGenes& t = b.training;
  const std::string full = absl::StrFormat(
      "%s\nlearning rate %.4g, momentum %.2f, batch %d, pad-crop %d%s", title, t.learning_rate,
      t.momentum, t.batch_size, t.pad_crop, t.flip ? ", flip" : "");
  return DagDot<ModuleRef>(
      b.graph, full, [](const ModuleRef& r) { return absl::StrCat("module species ", r.species); },
      [](const ModuleRef& r) { return Palette(r.species); });
}

std::string NetworkDot(const Graph& graph, const std::string& title) {
  std::string dot = Header(title, "TB");
  // Nodes boxed by the part of their name before the first '/' when it is
  // a CoDeepNEAT module instance (b<node>_s<species>_m<module>).
  std::map<std::string, std::vector<std::string>> clusters;
  for (const Node& n : graph.nodes) {
    const size_t slash = n.name.find('/');
    const std::string part = slash == std::string::npos ? "" : n.name.substr(0, slash);
    clusters[part.find("_s") != std::string::npos && part.find("_m") != std::string::npos ? part : ""]
        .push_back(n.name);
  }
  std::map<std::string, const Node*> by_name;
  for (const Node& n : graph.nodes) by_name[n.name] = &n;
  const auto node_line = [&](const std::string& name) {
    const Node& n = *by_name.at(name);
    std::string label = absl::StrCat(OpName(n.op));
    if (n.op == OpKind::kConv)
      absl::StrAppend(&label, " ", n.conv.kernel_h, "x", n.conv.kernel_w, " ", n.conv.out_channels,
                      n.conv.groups > 1 ? absl::StrCat(" g", n.conv.groups) : std::string(),
                      n.conv.stride_h > 1 ? " /2" : "");
    if (n.op == OpKind::kDense) absl::StrAppend(&label, " ", n.dense.units);
    return absl::StrCat("    ", Quote(name), " [label=", Quote(label), ", shape=box];\n");
  };
  absl::StrAppend(&dot, "  ", Quote(kInputName), " [shape=invhouse];\n");
  int k = 0;
  for (const auto& [cluster, names] : clusters) {
    if (cluster.empty()) {
      for (const std::string& name : names) dot += node_line(name);
      continue;
    }
    const size_t s = cluster.find("_s"), m = cluster.find("_m");
    const int species = std::atoi(cluster.c_str() + s + 2);
    absl::StrAppend(&dot, "  subgraph cluster_", k++, " {\n    label=",
                    Quote(absl::StrCat("blueprint node ", cluster.substr(1, s - 1), ": module ",
                                       cluster.substr(m + 2), " of species ", species)),
                    ";\n    style=filled;\n    fillcolor=", Quote(Palette(species)), ";\n");
    for (const std::string& name : names) dot += node_line(name);
    dot += "  }\n";
  }
  for (const Node& n : graph.nodes)
    for (const std::string& in : n.inputs) absl::StrAppend(&dot, "  ", Quote(in), " -> ", Quote(n.name), ";\n");
  return dot + "}\n";
}

absl::StatusOr<std::string> GenomeJsonDot(const nlohmann::json& j, int index, const std::string& title) {
  try {
    if (!j.is_object()) return absl::InvalidArgumentError("not a genome or a population (a JSON object)");
    if (j.contains("genomes") && j.contains("ops")) {
      const nlohmann::json& config = j["ops"].at("config");
      const std::string which = index < 0 ? "best" : absl::StrCat("genome ", index);
      if (config.contains("initial_nodes")) {
        absl::StatusOr<Blueprint> b = Pick<Blueprint>(j, index);
        if (!b.ok()) return b.status();
        return BlueprintDot(*b, absl::StrCat(title, " (blueprint population: ", which, ")"));
      }
      if (config.contains("initial_layers")) {
        absl::StatusOr<deepneat::LayerGenome> g = Pick<deepneat::LayerGenome>(j, index);
        if (!g.ok()) return g.status();
        return LayerGenomeDot(*g, absl::StrCat(title, " (layer-graph population: ", which, ")"));
      }
      absl::StatusOr<neat::Genome> g = Pick<neat::Genome>(j, index);
      if (!g.ok()) return g.status();
      return NeatGenomeDot(*g, absl::StrCat(title, " (NEAT population: ", which, ")"));
    }
    if (j.contains("connections")) {
      absl::StatusOr<neat::Genome> g = neat::Genome::FromJson(j);
      if (!g.ok()) return g.status();
      return NeatGenomeDot(*g, title);
    }
    if (j.contains("training")) {
      absl::StatusOr<Blueprint> b = Blueprint::FromJson(j);
      if (!b.ok()) return b.status();
      return BlueprintDot(*b, title);
    }
    absl::StatusOr<deepneat::LayerGenome> g = deepneat::LayerGenome::FromJson(j);
    if (!g.ok()) return g.status();
    return LayerGenomeDot(*g, title);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not a saved genome or population (", e.what(), ")"));
  }
}

}  // namespace codeepneat
}  // namespace edgenas
