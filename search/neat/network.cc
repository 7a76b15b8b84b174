#include "search/neat/network.h"

#include <cmath>
#include <map>

namespace edgenas {
namespace neat {

Network::Network(const Genome& genome, const NeatConfig& config)
    : recurrent_(config.recurrent), slope_(config.sigmoid_slope) {
  std::map<int, int> index;  // node id -> position
  for (const NodeGene& n : genome.nodes) {
    const int at = static_cast<int>(index.size());
    index[n.id] = at;
    switch (n.type) {
      case NodeType::kInput:
        ++inputs_;
        break;
      case NodeType::kBias:
        bias_ = at;
        break;
      case NodeType::kOutput:
        outputs_.push_back(at);
        break;
      case NodeType::kHidden:
        break;
    }
  }
  incoming_.resize(index.size());
  std::vector<int> indegree(index.size(), 0);
  std::vector<std::vector<int>> outgoing(index.size());
  for (const ConnectionGene& c : genome.connections) {
    if (!c.enabled) continue;
    const int from = index.at(c.in), to = index.at(c.out);
    incoming_[to].push_back({from, to, c.weight});
    outgoing[from].push_back(to);
    ++indegree[to];
  }
  values_.assign(index.size(), 0.0);
  next_ = values_;
  out_.assign(outputs_.size(), 0.0);
  if (recurrent_) return;
  // Kahn's order over every node; inputs and the bias come first and are
  // not computed.
  std::vector<int> ready;
  for (size_t v = 0; v < index.size(); ++v)
    if (indegree[v] == 0) ready.push_back(static_cast<int>(v));
  while (!ready.empty()) {
    const int v = ready.back();
    ready.pop_back();
    if (genome.nodes[v].type == NodeType::kHidden || genome.nodes[v].type == NodeType::kOutput)
      order_.push_back(v);
    for (int w : outgoing[v])
      if (--indegree[w] == 0) ready.push_back(w);
  }
}

double Network::Sigmoid(double x) const { return 1.0 / (1.0 + std::exp(-slope_ * x)); }

void Network::Reset() {
  std::fill(values_.begin(), values_.end(), 0.0);
  std::fill(next_.begin(), next_.end(), 0.0);
}

const std::vector<double>& Network::Activate(const std::vector<double>& inputs) {
  // Inputs are the first nodes (their ids come first), then the bias.
  for (int i = 0; i < inputs_ && i < static_cast<int>(inputs.size()); ++i) values_[i] = inputs[i];
  if (bias_ >= 0) values_[bias_] = 1.0;
  if (recurrent_) {
    next_ = values_;
    for (size_t v = 0; v < incoming_.size(); ++v) {
      if (static_cast<int>(v) < inputs_ || static_cast<int>(v) == bias_) continue;
      double sum = 0;
      for (const Link& l : incoming_[v]) sum += l.weight * values_[l.from];
      next_[v] = Sigmoid(sum);
    }
    values_.swap(next_);
  } else {
    for (int v : order_) {
      double sum = 0;
      for (const Link& l : incoming_[v]) sum += l.weight * values_[l.from];
      values_[v] = Sigmoid(sum);
    }
  }
  for (size_t o = 0; o < outputs_.size(); ++o) out_[o] = values_[outputs_[o]];
  return out_;
}

}  // namespace neat
}  // namespace edgenas
